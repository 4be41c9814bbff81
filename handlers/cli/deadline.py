"""`dsr deadline`: the legal deadline for a request received at a given moment."""

from __future__ import annotations

import argparse
from typing import Any

from bot.calendar_nl import DutchCalendar
from bot.deadline import compute_deadline
from handlers.cli.common import fail, parse_moment, print_json, settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "deadline", help="legal deadline for a request / wettelijke termijn voor een verzoek"
    )
    parser.add_argument("--received", required=True, help="ISO 8601 moment of receipt")
    parser.add_argument("--verified", help="ISO 8601 moment the identity was confirmed")
    parser.add_argument(
        "--identity-requested", help="ISO 8601 moment identity was asked for (EDPB clock)"
    )
    # In the outside contract's synopsis; the output always holds the extended date.
    parser.add_argument(
        "--extended",
        action="store_true",
        help="changes nothing: the output always holds the extended date",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = settings()
    try:
        received = parse_moment(args.received, tz=config.tz)
        verified = parse_moment(args.verified, tz=config.tz) if args.verified else None
        requested = (
            parse_moment(args.identity_requested, tz=config.tz) if args.identity_requested else None
        )
    except ValueError as exc:
        return fail(str(exc), 2)
    deadline = compute_deadline(
        received=received,
        tz=config.tz,
        # The calendar itself, not the desk's: this command starts without the database.
        calendar=DutchCalendar(config.holiday_profile),
        identity_clock=config.identity_clock,
        identity_requested=requested or (received if verified else None),
        identity_verified=verified,
    )
    result = {
        "received": received.astimezone(config.tz).isoformat(),
        "due": deadline.due.isoformat(),
        "extended_due": deadline.extended_due.isoformat(),
    }
    if args.json:
        print_json(result)
    else:
        print(f"received {result['received']}")
        print(f"due      {result['due']}")
        print(f"extended {result['extended_due']}")
    return 0

"""`dsr review ...`: mail that might be a request, decided from a terminal (the same core
functions as the Slack buttons)."""

from __future__ import annotations

import argparse
from typing import Any

from bot import review as core
from bot.categories import UnknownKind
from handlers.cli.common import actor, desk, fail, number_of, print_json
from handlers.runtime import utcnow

REFUSALS = (core.UnknownReview, core.ReviewRefused, UnknownKind)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "review", help="mail that might be a request / mogelijke verzoeken beoordelen"
    )
    sub = parser.add_subparsers(dest="review_command", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="waiting items / wachtende berichten")
    listing.add_argument("--all", action="store_true", help="include decided items")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)

    opening = sub.add_parser("open", help="open a case for the mail / zaak openen voor het bericht")
    opening.add_argument("id", type=number_of("review item"))
    opening.add_argument("--kind", help="kind of request (default: the suggested one)")
    opening.set_defaults(func=run_open)

    dismiss = sub.add_parser("dismiss", help="not a request / geen verzoek")
    dismiss.add_argument("id", type=number_of("review item"))
    dismiss.add_argument("--note", help="why (optional), kept in the audit trail")
    dismiss.set_defaults(func=run_dismiss)


def run_list(args: argparse.Namespace) -> int:
    the_desk, now = desk(), utcnow()
    views = core.list_reviews(the_desk, now=now, include_decided=args.all)
    rows = [view.to_json(tz=the_desk.tz) for view in views]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        kind = (
            row["category"] if row["category"] != "other" else f"other ({', '.join(row['also'])})"
        )
        print(
            f"{row['id']:>5}  {row['state']:<9} {row['received_at'][:16]}  "
            f"{row['waiting_days']}wd  {kind:<24} {row['sender']}  {row['subject'][:60]}"
            + (f"  -> {row['case']}" if row["case"] else "")
        )
    print(f"{len(rows)} item(s)")
    return 0


def run_open(args: argparse.Namespace) -> int:
    try:
        decision = core.open_review(
            desk(), item_id=args.id, kind=args.kind, actor=actor(), now=utcnow()
        )
    except REFUSALS as exc:
        return fail(str(exc))
    print(f"review item {decision.item_id}: case {decision.reference} opened")
    return 0


def run_dismiss(args: argparse.Namespace) -> int:
    try:
        decision = core.dismiss_review(
            desk(), item_id=args.id, note=args.note, actor=actor(), now=utcnow()
        )
    except REFUSALS as exc:
        return fail(str(exc))
    print(f"review item {decision.item_id}: not a request; nothing sent")
    return 0

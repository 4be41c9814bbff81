"""`dsr reminders run`: one reminder sweep from a terminal (the same sweep as `dsr serve`)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.sweep import SweepReport, run_sweep
from handlers.cli.common import desk, fail, parse_moment, print_json
from handlers.runtime import utcnow


def register(commands: Any) -> None:
    parser = commands.add_parser("reminders", help="deadline reminders / herinneringen")
    sub = parser.add_subparsers(dest="reminders_command", required=True, metavar="ACTION")
    run_parser = sub.add_parser("run", help="one reminder sweep / één herinneringsronde")
    run_parser.add_argument("--now", help="ISO 8601 moment to sweep at (default: the clock)")
    run_parser.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; send and record nothing"
    )
    run_parser.add_argument("--json", action="store_true", help="print JSON")
    run_parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        now = parse_moment(args.now) if args.now else utcnow()
    except ValueError as exc:
        return fail(str(exc), 2)
    report = run_sweep(desk(), now=now, dry_run=args.dry_run)
    if args.json:
        print_json(report.as_dict())
    else:
        print_summary(report)
    return 0


def print_summary(report: SweepReport) -> None:
    if report.skipped:
        print("another instance is sweeping right now; nothing done (try again in a minute)")
        return
    verb = "would be queued" if report.dry_run else "queued"
    for item in report.reminders:
        print(
            f"  {item.reference:<15} {item.step:<20} due {item.due}  to {item.to} by {item.channel}"
        )
    print(f"{len(report.reminders)} reminder(s) {verb}", end="")
    if report.duplicates:
        print(f", {report.duplicates} already sent by another sweep", end="")
    digest = report.digest
    if digest is None:
        print("; no digest")
    else:
        counts = ", ".join(f"{key} {count}" for key, count in digest.items() if count)
        print(f"; digest {verb} ({counts})")

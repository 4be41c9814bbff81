"""`dsr subjects ...`: the register of known persons."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.privacy import mask_address
from bot.register import import_register, look_up
from handlers.cli.common import actor, desk, fail, print_json
from handlers.runtime import utcnow


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "subjects", help="register of known persons / register van bekende personen"
    )
    sub = parser.add_subparsers(dest="subjects_command", required=True, metavar="ACTION")
    load = sub.add_parser(
        "import",
        help="load or update persons from CSV (name,email,employee_number,organisation,"
        "date_of_birth) / personen inlezen uit CSV",
    )
    load.add_argument("file", type=Path)
    load.add_argument("--json", action="store_true")
    load.set_defaults(func=run_import)
    show = sub.add_parser("show", help="look a person up (audited) / persoon opzoeken")
    show.add_argument("address")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)


def run_import(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"cannot read {args.file}: {exc}; give a UTF-8 CSV file")
    report = import_register(desk(), text=text, actor=actor(), now=utcnow())
    for error in report.errors:
        print(f"dsr: {args.file}: {error}", file=sys.stderr)
    summary = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": len(report.errors),
    }
    if args.json:
        print_json(summary)
    else:
        print(", ".join(f"{k} {v}" for k, v in summary.items()))
    return 1 if report.errors else 0


def run_show(args: argparse.Namespace) -> int:
    person = look_up(desk(), address=args.address, actor=actor(), now=utcnow())
    if person is None:
        return fail(f"no known person with address {mask_address(args.address)}")
    row = {
        "name": person.name,
        "email": person.email,
        "employee_number": person.employee_number,
        "organisation": person.organisation,
        "date_of_birth": person.date_of_birth,
    }
    if args.json:
        print_json(row)
    else:
        for key, value in row.items():
            print(f"{key:<16} {value or '-'}")
    return 0

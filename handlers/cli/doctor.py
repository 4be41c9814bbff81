"""`dsr doctor [--json]`: check the installation, one line per check; exit 1 on any failure."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.settings import SettingsError, load_settings
from handlers.cli.common import print_json
from handlers.doctor.run import examine
from handlers.health.readiness import Check

HELP = "check settings, database, key and servers / de installatie controleren"


def register(commands: Any) -> None:
    parser = commands.add_parser("doctor", help=HELP)
    parser.add_argument("--json", action="store_true", help="one JSON array / als JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        checks = asyncio.run(examine(load_settings()))
    except SettingsError as exc:
        checks = [Check("settings", False, f"{exc}; fix it in .env or the environment")]
    if args.json:
        print_json([c.as_dict() for c in checks])
    else:
        for check in checks:
            print(f"{'ok' if check.ok else 'FAIL':<5} {check.name:<10} {check.detail}")
    return 0 if all(c.ok for c in checks) else 1

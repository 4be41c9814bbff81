"""The `dsr` command line: one module per command group, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.keys import EncryptionKeyError
from bot.settings import SettingsError
from handlers.cli import (
    audit,
    cases,
    classify,
    db,
    deadline,
    demo,
    ingest,
    keys,
    reminders,
    serve,
    subjects,
)
from handlers.runtime import StartupError

EX_USAGE, EX_CONFIG = 2, 78


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsr",
        description="Privacy desk for GDPR data-subject requests / "
        "Privacybalie voor AVG-verzoeken van betrokkenen",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        serve,
        db,
        deadline,
        cases,
        classify,
        subjects,
        ingest,
        demo,
        reminders,
        audit,
        keys,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
    except (SettingsError, StartupError, EncryptionKeyError) as exc:
        print(f"dsr: {exc}", file=sys.stderr)
        code = EX_CONFIG
    raise SystemExit(code)

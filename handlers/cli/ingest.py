"""`dsr ingest [FILE|-]`: one RFC 5322 message through intake, for pipes (procmail, Postfix).

Exit codes follow sysexits(3), which mail transfer agents understand: 0 done, 65 unusable input
(quarantined), 66 the file cannot be read, 75 temporary failure (the caller should retry).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.intake import TemporaryIntakeError, process_message
from handlers.cli.common import desk, fail, print_json
from handlers.runtime import utcnow

EX_OK, EX_DATAERR, EX_NOINPUT, EX_TEMPFAIL = 0, 65, 66, 75


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "ingest", help="take one mail from a file or stdin / één mail inlezen"
    )
    parser.add_argument(
        "file", nargs="?", default="-", help="RFC 5322 message; - or nothing reads stdin"
    )
    parser.set_defaults(func=run)


def read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def run(args: argparse.Namespace) -> int:
    try:
        raw = read_input(args.file)
    except OSError as exc:
        return fail(
            f"cannot read {args.file}: {exc.strerror}; give a readable file or -", EX_NOINPUT
        )
    try:
        the_desk = desk()
        result = process_message(the_desk, raw, now=utcnow(), source="cli")
    except TemporaryIntakeError as exc:
        return fail(f"{exc}; the mail was not stored, try again later", EX_TEMPFAIL)
    except (DBAPIError, OSError) as exc:
        return fail(
            f"database not reachable ({type(exc).__name__}); the mail was not stored, "
            "check DSR_DATABASE_URL and try again later",
            EX_TEMPFAIL,
        )
    print_json(result.to_json())
    return EX_DATAERR if result.action == "quarantined" else EX_OK

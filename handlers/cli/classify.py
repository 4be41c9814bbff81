"""`dsr classify`: recognise requests in messages without touching the database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.classify import classify
from bot.mail.parse import parse_message
from handlers.cli.common import settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "classify",
        help="recognise a request and its route (no database) / verzoek en route herkennen",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="RFC 5322 files, or - for stdin")
    parser.add_argument("--text", action="store_true", help="inputs are plain text, not mail")
    parser.add_argument("--json", action="store_true", help="one JSON object per input")
    parser.set_defaults(func=run)


def _read(name: str) -> bytes:
    return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()


def _result(raw: bytes, *, plain_text: bool, threshold: float) -> dict[str, Any]:
    if plain_text:
        found = classify(text=raw.decode("utf-8", errors="replace"), threshold=threshold)
    else:
        mail = parse_message(raw)
        found = classify(
            text=mail.text, subject=mail.subject, headers=mail.headers, threshold=threshold
        )
    return found.to_json()


def run(args: argparse.Namespace) -> int:
    threshold = settings().triage_threshold
    failed = False
    for name in args.files:
        try:
            raw = _read(name)
        except OSError as exc:
            print(f"dsr: {name}: cannot read ({exc.strerror}); skipped", file=sys.stderr)
            failed = True
            continue
        try:
            result = _result(raw, plain_text=args.text, threshold=threshold)
        except Exception as exc:  # one bad input must not stop the batch
            print(f"dsr: {name}: not classified ({type(exc).__name__}); skipped", file=sys.stderr)
            failed = True
            continue
        if name != "-":
            result = {"file": name, **result}
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(
                f"{name}: {result['route']} ({result['reason']}) {result['category']} "
                f"{result['confidence']:.2f} [{result['language']}] "
                f"{', '.join(result['evidence'][:5])}"
            )
    return 1 if failed else 0

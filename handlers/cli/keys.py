"""`dsr keys generate|rotate`: the encryption key for mail bodies and personal fields."""

from __future__ import annotations

import argparse
from typing import Any

from bot.rotation import rotate_keys
from handlers.cli.common import desk
from storage.sealing import generate_key


def register(commands: Any) -> None:
    parser = commands.add_parser("keys", help="encryption keys / versleutelingssleutels")
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    new = sub.add_parser("generate", help="print a new key / nieuwe sleutel tonen")
    new.set_defaults(func=run_generate)
    rotate = sub.add_parser(
        "rotate",
        help="re-encrypt under the first key of DSR_ENCRYPTION_KEY (list the old key after it) "
        "/ alles opnieuw versleutelen met de nieuwe sleutel",
    )
    rotate.set_defaults(func=run_rotate)


def run_generate(_args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def run_rotate(_args: argparse.Namespace) -> int:
    report = rotate_keys(desk())
    print(
        f"re-encrypted {report.values} value(s) and recomputed {report.lookups} lookup key(s); "
        "the old key can now be removed from DSR_ENCRYPTION_KEY"
    )
    return 0

"""`dsr cases package REF [--output FILE]`: the answer package of an access or portability
case, written to a file only the user can read."""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path
from typing import Any

from handlers.cli.common import actor, desk, fail, print_json
from handlers.runtime import utcnow


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "package", help="build the answer package (ZIP) / antwoordpakket maken"
    )
    parser.add_argument("reference")
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="where to write it (default: REF.zip)"
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run_package)


def run_package(args: argparse.Namespace) -> int:
    from bot.package import PackageError, build_package

    reference = args.reference.strip().upper()
    output: Path = args.output or Path(f"{reference}.zip")
    if output.exists():
        return fail(f"{output} exists; remove it or choose another --output")
    try:
        data = build_package(desk(), reference, now=utcnow(), actor=actor())
    except PackageError as exc:
        return fail(str(exc))
    try:
        _write_private(output, data)
    except OSError as exc:
        return fail(f"cannot write {output}: {exc.strerror}")
    digest = hashlib.sha256(data).hexdigest()
    if args.json:
        print_json({"case": reference, "file": str(output), "size": len(data), "sha256": digest})
    else:
        print(f"{reference}: package written to {output} ({len(data):,} bytes, sha256 {digest})")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """Mode 0600 from the start (the package is a copy of the person's data); never over an
    existing file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)

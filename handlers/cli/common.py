"""Small things every command needs: settings, the desk, JSON output, the actor."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.desk import Desk


def settings() -> Settings:
    return load_settings()


def desk() -> Desk:
    """Engine and desk for this command. The database and crypto libraries are imported here,
    so that a command without a database (`dsr classify`, `dsr deadline`) starts without them."""
    from handlers.runtime import build_desk

    return build_desk(load_settings())


def actor() -> str:
    """CLI actions are recorded with the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def fail(message: str, code: int = 1) -> int:
    print(f"dsr: {message}", file=sys.stderr)
    return code


def parse_moment(value: str) -> datetime:
    """ISO 8601 with an offset; a bare date or naive time is refused (ambiguous)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 moment; write e.g. 2026-03-02T10:30:00+01:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; add one, e.g. {value}+01:00 or {value}Z")
    return moment


def number_of(what: str) -> Callable[[str], int]:
    """An argparse type for the number of a row (`what`: "review item", "task"), with the
    command that lists them in the error."""

    def parse(value: str) -> int:
        if not value.isdigit():
            raise argparse.ArgumentTypeError(f"{value!r} is not a {what} number (see its list)")
        return int(value)

    return parse

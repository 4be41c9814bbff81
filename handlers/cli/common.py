"""Small things every command needs: settings, the desk, JSON output, the actor."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
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


CASE_LIST = "dsr cases list"


def refusal(exc: Exception) -> str:
    """A refusal from the core as the terminal says it: an unknown case points at
    `dsr cases list`, not at Slack's `/dsr list`."""
    from bot.cases import UnknownCase

    if isinstance(exc, UnknownCase):
        return str(UnknownCase(exc.reference, listing=CASE_LIST))
    return str(exc)


def parse_moment(value: str, *, tz: tzinfo | None = None) -> datetime:
    """ISO 8601 with a time and an offset; a bare date or naive time is refused (ambiguous),
    with the full moment to write instead (its offset from `tz` when given)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 moment; write e.g. 2026-03-02T10:30:00+01:00"
        ) from None
    # Python reads the "+01:00" of "2026-01-31+01:00" as a time of day, not as an offset.
    has_time = "T" in value.upper() or " " in value.strip()
    if moment.tzinfo is None or not has_time:
        raise ValueError(
            f"{value!r} has no UTC offset (or no time); write it in full, e.g. "
            f"{_full_moment(moment, has_time, tz)}"
        )
    return moment


def _full_moment(moment: datetime, has_time: bool, tz: tzinfo | None) -> str:
    """What `moment` (its time, or midnight when only a date was given) looks like written in
    full: with the offset of `tz` and in UTC, or with +01:00 and in UTC without one."""
    naive = moment.replace(tzinfo=None) if has_time else datetime.combine(moment.date(), time())
    local = naive.replace(tzinfo=tz or timezone(timedelta(hours=1)))
    utc = local.astimezone(UTC).replace(tzinfo=None)
    return f"{local.isoformat()} or {utc.isoformat()}Z"


def number_of(what: str) -> Callable[[str], int]:
    """An argparse type for the number of a row (`what`: "review item", "task"), with the
    command that lists them in the error."""

    def parse(value: str) -> int:
        if not value.isdigit():
            raise argparse.ArgumentTypeError(f"{value!r} is not a {what} number (see its list)")
        return int(value)

    return parse

"""Every real-world mail of the imap_tools corpus goes through intake without an unhandled
error and gets an action (the files are read in place, never copied into this repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.desk import Desk
from bot.intake import process_message
from tests.factories import T0

REALMAIL = Path("/work/shared/realmail/imap_tools")
ACTIONS = {"created", "threaded", "review", "ignored", "duplicate", "quarantined"}


def test_every_real_mail_gets_an_action(desk: Desk) -> None:
    files = sorted(REALMAIL.glob("*.eml"))
    if not files:
        pytest.skip(f"no real mail corpus at {REALMAIL}")
    failures: list[str] = []
    actions: dict[str, int] = {}
    for path in files:
        try:
            result = process_message(desk, path.read_bytes(), now=T0, source="realmail")
        except Exception as exc:  # collect all failures, then report them together
            failures.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        if result.action not in ACTIONS or not result.reason:
            failures.append(f"{path.name}: {result}")
        actions[result.action] = actions.get(result.action, 0) + 1
    assert failures == []
    assert sum(actions.values()) == len(files)

"""The case message in Slack counts the systems that answered: "3 of 5"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import cases as core
from bot import tasks as work
from bot.desk import Desk
from handlers.slack.blocks import build_case_message
from tests.factories import T0, inventory_desk, new_case

TZ = ZoneInfo("Europe/Amsterdam")


def _fields(blocks: list[dict[str, object]]) -> str:
    return " ".join(str(f) for b in blocks if b["type"] == "section" for f in b["fields"])  # type: ignore[attr-defined]


def test_the_case_message_counts_the_systems_that_answered(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    case = new_case(desk, category="access")
    _, blocks = build_case_message(case, now=T0, tz=TZ)
    assert "Systems" not in _fields(blocks)  # no tasks yet: no line
    core.verify_by_hand(desk, reference=case.reference, note="n", actor="t", now=T0)
    rows = work.list_tasks(desk, reference=case.reference)
    first = rows[0].task.id
    assert first is not None
    later = T0 + timedelta(days=1)
    work.task_done(desk, task_id=first, result="nothing_found", note=None, actor="t", now=later)
    answered = work.systems_answered(desk, case_id=case.id)
    assert answered == (1, 6)
    _, blocks = build_case_message(case, now=later, tz=TZ, answered=answered)
    assert "1 of 6 answered / 1 van 6 beantwoord" in _fields(blocks)

"""The task owner's direct message and the consent line of the case message (pure)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.task_view import TaskView
from handlers.slack.blocks import build_case_message
from handlers.slack.task_blocks import build_task_dm, read_button_value
from storage.models import Case
from tests.factories import T0

VIEW = TaskView(
    id=12,
    reference="DSR-2026-0042",
    system="CRM (relatiebeheer)",
    action="restrict",
    state="open",
    result=None,
    assignee="slack:U0CRM",
    done_by=None,
    person="j***@example.nl",
    by=date(2026, 3, 26),
    instructions="Relatie > Acties > Blokkeren.",
    results=("restricted", "kept", "nothing_found"),
)


def test_buttons_only_for_the_owner_of_an_open_task() -> None:
    _, blocks = build_task_dm(VIEW, user="U0CRM")
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [read_button_value(e["value"]) for e in actions["elements"]] == [
        (12, "restricted"),
        (12, "kept"),
        (12, "nothing_found"),
    ]
    assert "Answer by / Antwoord vóór:* 2026-03-26" in json.dumps(blocks, ensure_ascii=False)
    _, other = build_task_dm(VIEW, user="UOTHER")
    assert not any(b["type"] == "actions" for b in other)
    assert "Now with / Nu bij <@U0CRM>" in json.dumps(other)
    assert read_button_value("12|deleted") is None and read_button_value("x|kept") is None


def test_the_case_message_shows_the_clients_consent() -> None:
    case = Case(
        id=1,
        reference="DSR-2026-0042",
        state="open",
        category="erasure",
        requester="jan.jansen@example.nl",
        received_at=T0,
        due=T0.date() + timedelta(days=31),
        created_at=T0,
        updated_at=T0,
    )
    words = {None: "unknown / onbekend", True: "yes / ja", False: "no / nee"}
    for value, shown in words.items():
        case.client_may_be_informed = value
        _, blocks = build_case_message(
            case, now=T0, tz=ZoneInfo("Europe/Amsterdam"), answered=(3, 5)
        )
        fields = json.dumps(blocks)
        assert f"Client may be told / Opdrachtgever informeren*\\n{shown}" in fields
        assert "3 of 5 answered" in fields

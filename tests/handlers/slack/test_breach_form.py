"""`/dsr datalek` in a real Bolt app against the Slack stub: the form opens, a submission
records the breach and its clock, a stranger is refused; the form's blocks are pure."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot import breaches as core
from handlers.slack.blocks import read_modal
from handlers.slack.breach_blocks import (
    ACTION_BREACH_ASK,
    ACTION_BREACH_DECIDE,
    MODAL_BREACH_NEW,
    breach_items,
    build_breach_modal,
)
from tests.handlers.slack.harness import DESK_USER, STRANGER, Harness


def test_the_form_asks_the_whole_checklist_and_reads_it_back() -> None:
    modal = build_breach_modal(channel="C1")
    ids = [block["block_id"] for block in modal["blocks"]]
    assert ids[:2] == ["reporter", "nature"] and "encrypted" in ids and len(ids) == 13
    assert modal["callback_id"] == MODAL_BREACH_NEW
    view = {
        "private_metadata": modal["private_metadata"],
        "state": {"values": {"encrypted": {"value": {"selected_option": {"value": "no"}}}}},
    }
    assert breach_items(read_modal(view)) == {"encrypted": "no"}


async def open_form(slack: Harness) -> dict[str, Any]:
    before = len(slack.stub.ok_calls("views.open"))
    await slack.command("datalek", wait=False)
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.open")) > before)
    view: dict[str, Any] = slack.stub.ok_calls("views.open")[-1].args["view"]
    return view


async def test_a_phone_report_from_the_form(slack: Harness) -> None:
    view = await open_form(slack)
    answer = await slack.submit(
        view,
        {
            "reporter": "p.bakker@proambt.nl",
            "nature": "Laptop met adviesrapporten gestolen uit de auto.",
            "encrypted": "yes",
        },
    )
    assert "DL-" in answer and "72" in answer
    [breach] = core.all_breaches(slack.desk)
    assert (breach.source, breach.aware_at) == ("phone", slack.clock())
    facts = core.facts_of(breach)
    assert facts["encrypted"]["value"] == "yes" and "Laptop" in facts["nature"]["value"]
    assert [e.actor for e in slack.audit("breach_opened")] == [f"slack:{DESK_USER}"]


async def test_a_stranger_cannot_record_a_breach(slack: Harness) -> None:
    answer = await slack.command("datalek", user=STRANGER)
    assert answer.startswith("Not authorised")
    assert core.all_breaches(slack.desk) == []


async def test_the_breach_message_carries_the_checklist_and_its_buttons(slack: Harness) -> None:
    from bot.intake import process_message
    from storage.models import OutboxItem
    from tests.bot.test_breaches import NOTICE, PROCESSOR
    from tests.handlers.slack.harness import actions_block
    from tests.mailbuilder import build_mail

    raw = build_mail(sender=f"Marieke <{PROCESSOR}>", subject="Datalek", body=NOTICE)
    reference = process_message(slack.desk, raw, now=slack.clock(), source="t").case
    assert reference is not None
    await slack.deliver()
    message = slack.case_message()
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    assert reference in shown and "❌" in shown and "✅" in shown
    assert PROCESSOR not in shown and "verkeerde klant" not in shown  # no addresses, no text
    block = actions_block(message)

    answer = await slack.press(ACTION_BREACH_ASK, block, user=STRANGER)
    assert answer.startswith("Not authorised")
    answer = await slack.press(ACTION_BREACH_ASK, block)
    assert "verstuurd" in answer
    with slack.desk.reading() as session:
        kinds = [i.kind for i in session.exec(select(OutboxItem)).all()]
    assert "breach_request" in kinds

    before = len(slack.stub.ok_calls("views.open"))
    status = await slack.interactive(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": DESK_USER},
            "api_app_id": "A1",
            "trigger_id": "trigger.decide",
            "channel": {"id": "C1"},
            "actions": [
                {
                    "type": "button",
                    "action_id": ACTION_BREACH_DECIDE,
                    "block_id": block["block_id"],
                    "value": reference,
                    "action_ts": "1700000200.000001",
                }
            ],
        }
    )
    assert status == 200  # the button opens the form and answers nothing itself
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.open")) > before)
    view = slack.stub.ok_calls("views.open")[-1].args["view"]
    answer = await slack.submit(
        view,
        {"ap": "yes", "subjects": "no", "reasons": "Loonstroken bij een derde; gemeld."},
    )
    assert "besluit vastgelegd" in answer
    breach = core.get(slack.desk, reference=reference)
    assert (breach.state, breach.ap_notified, breach.subjects_told) == ("decided", True, False)

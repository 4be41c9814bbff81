"""Buttons, select and modals on the case message: database, message and audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

from bot import cases as core
from handlers.slack.blocks import ACTION_CLOSE, ACTION_EXTEND, ACTION_VERIFY
from tests.handlers.slack.harness import (
    DESK_USER,
    STRANGER,
    Harness,
    actions_block,
    open_case_as_intake,
)


async def posted(slack: Harness, **kwargs: object) -> str:
    reference = open_case_as_intake(slack.desk, **kwargs)  # type: ignore[arg-type]
    await slack.deliver()
    return reference


async def opened_modal(slack: Harness, action_id: str) -> dict[str, object]:
    before = len(slack.stub.ok_calls("views.open"))
    await slack.press(action_id, actions_block(slack.case_message()))
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.open")) > before)
    view: dict[str, object] = slack.stub.ok_calls("views.open")[-1].args["view"]
    return view


async def test_assign_to_me_round_trip(slack: Harness) -> None:
    reference = await posted(slack)
    answer = await slack.press("case_assign_me", actions_block(slack.case_message()))
    assert f"<@{DESK_USER}>" in answer
    assert core.get_case(slack.desk, reference=reference).assignee == f"slack:{DESK_USER}"
    await slack.deliver()
    [update] = slack.stub.ok_calls("chat.update")
    assert f"<@{DESK_USER}>" in json.dumps(update.args["blocks"])
    [event] = slack.audit("assigned")
    assert event.actor == f"slack:{DESK_USER}" and event.reference == reference


async def test_change_kind_round_trip(slack: Harness) -> None:
    reference = await posted(slack, needs_triage=True)
    answer = await slack.press("case_kind", actions_block(slack.case_message()), selected="erasure")
    assert "Erasure" in answer
    case = core.get_case(slack.desk, reference=reference)
    assert case.category == "erasure" and not case.needs_triage
    await slack.deliver()
    assert "Erasure / Verwijdering" in json.dumps(slack.case_message()["blocks"])
    assert len(slack.audit("kind_changed")) == 1


async def test_verify_then_close_round_trip(slack: Harness) -> None:
    reference = await posted(slack)
    view = await opened_modal(slack, ACTION_VERIFY)
    answer = await slack.submit(view, {"note": "called the number in the register"})
    assert "verified" in answer
    await slack.deliver()
    view = await opened_modal(slack, ACTION_CLOSE)
    answer = await slack.submit(view, {"outcome": "done", "note": "copy sent by post"})
    assert "Done" in answer
    case = core.get_case(slack.desk, reference=reference)
    assert case.state == "done" and case.outcome_note == "copy sent by post"
    await slack.deliver()
    blocks = slack.case_message()["blocks"]
    assert "Done / Afgehandeld" in json.dumps(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]  # type: ignore[index]
    assert [e.actor for e in slack.audit("closed")] == [f"slack:{DESK_USER}"]


async def test_extend_round_trip(slack: Harness) -> None:
    reference = await posted(slack)
    view = await opened_modal(slack, ACTION_EXTEND)
    answer = await slack.submit(view, {"note": "many archives to search"})
    case = core.get_case(slack.desk, reference=reference)
    assert case.state == "extended" and case.extended_due is not None
    assert str(case.extended_due) in answer
    await slack.deliver()
    shown = json.dumps(slack.case_message()["blocks"])
    assert "extended / verlengd" in shown and ACTION_EXTEND not in shown
    assert len(slack.audit("extended")) == 1


async def test_extend_after_the_deadline_is_refused(slack: Harness) -> None:
    reference = await posted(slack)
    view = await opened_modal(slack, ACTION_EXTEND)
    slack.clock.advance(timedelta(days=45).total_seconds())
    answer = await slack.submit(view, {"note": "late"})
    assert "has passed" in answer
    assert core.get_case(slack.desk, reference=reference).extended_due is None


async def test_stale_button_acts_on_the_case_as_it_is_and_says_what_changed(
    slack: Harness,
) -> None:
    reference = await posted(slack)
    stale = actions_block(slack.case_message())
    core.change_kind(
        slack.desk, reference=reference, kind="complaint", actor="cli:piet", now=slack.clock()
    )
    answer = await slack.press("case_assign_me", stale)
    assert "out of date" in answer and "Complaint" in answer
    case = core.get_case(slack.desk, reference=reference)
    assert case.assignee == f"slack:{DESK_USER}" and case.category == "complaint"


async def test_stranger_pressing_a_button_is_refused_and_audited(slack: Harness) -> None:
    reference = await posted(slack)
    answer = await slack.press("case_assign_me", actions_block(slack.case_message()), user=STRANGER)
    assert "Not authorised" in answer
    assert core.get_case(slack.desk, reference=reference).assignee is None
    [event] = slack.audit("unauthorised")
    assert event.actor == f"slack:{STRANGER}"

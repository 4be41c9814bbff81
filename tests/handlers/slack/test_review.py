"""Review items in Slack through the real endpoint and the Slack stub: the post, "Open a case"
and "Not a request" with their modals, `/dsr review`, refusals, and the reminder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot import review as core
from bot.intake import process_message
from bot.review import ReviewView
from bot.review_queue import queue_review_post
from bot.sweep import run_sweep
from handlers.slack.review_blocks import (
    ACTION_REVIEW_DISMISS,
    ACTION_REVIEW_OPEN,
    build_review_message,
    build_review_open_modal,
)
from storage.models import Case, OutboxItem
from tests.bot.test_review import COMPLAINT
from tests.factories import new_review_item
from tests.handlers.slack.harness import CHANNEL, DESK_USER, STRANGER, Harness
from tests.mailbuilder import build_mail

TZ = ZoneInfo("Europe/Amsterdam")
SECRET_WORDS = ("bosman", "klacht", "advies", "Herman")


def a_view(**overrides: Any) -> ReviewView:
    values: dict[str, Any] = {
        "id": 12,
        "state": "waiting",
        "received_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "category": "other",
        "also": ("complaint",),
        "confidence": 0.6,
        "language": "nl",
        "sender": "h***@example.nl",
        "subject": "klacht over advies van Herman Bosman",
        "reason": "a request phrase in a mail that reads as ordinary",
        "waiting_days": 2,
        "suggested_kind": "complaint",
        "case": None,
        "decided_by": None,
    }
    return ReviewView(**(values | overrides))


def test_the_message_shows_no_subject_and_offers_both_decisions_while_waiting() -> None:
    text, blocks = build_review_message(a_view(), tz=TZ)
    shown = text + json.dumps(blocks)
    assert "h***@example.nl" in shown and "2026-03-02 10:30" in shown
    assert "Complaint / Klacht" in shown and not any(w in shown for w in SECRET_WORDS)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        ACTION_REVIEW_OPEN,
        ACTION_REVIEW_DISMISS,
    ]
    _, decided = build_review_message(
        a_view(state="opened", case="DSR-2026-0007", decided_by="slack:UDESK"), tz=TZ
    )
    assert not [b for b in decided if b["type"] == "actions"]
    assert "DSR-2026-0007" in json.dumps(decided) and "<@UDESK>" in json.dumps(decided)


def test_the_open_modal_preselects_the_suggested_kind() -> None:
    modal = build_review_open_modal(a_view(), channel=CHANNEL, tz=TZ)
    [select] = [b["element"] for b in modal["blocks"] if b["type"] == "input"]
    assert select["initial_option"]["value"] == "complaint"
    assert len(select["options"]) == 9
    bare = build_review_open_modal(a_view(suggested_kind=None), channel=CHANNEL, tz=TZ)
    assert "initial_option" not in json.dumps(bare)


async def arrived(slack: Harness) -> int:
    """A review-worthy mail through intake, its message delivered; returns the item id."""
    raw = build_mail(sender="Herman Bosman <h.bosman@example.nl>", subject="klacht", body=COMPLAINT)
    result = process_message(slack.desk, raw, now=slack.clock(), source="t")
    if result.action == "review":
        [view] = core.list_reviews(slack.desk, now=slack.clock())
        item_id = view.id
    else:  # recognition changed its mind about the sample: the item as intake leaves it
        item_id = new_review_item(slack.desk, received_at=slack.clock())
        with slack.desk.transaction() as session:
            queue_review_post(slack.desk, session=session, item_id=item_id, now=slack.clock())
    await slack.deliver()
    return item_id


def actions_of(message: dict[str, Any]) -> dict[str, Any]:
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return next(b for b in blocks if b["type"] == "actions")


async def press(slack: Harness, action_id: str, *, user: str = DESK_USER) -> None:
    block = actions_of(slack.case_message())
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    n = next(slack.ids)
    status = await slack.interactive(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": f"trigger.{n}",
            "channel": {"id": CHANNEL},
            "container": {"type": "message", "channel_id": CHANNEL},
            "response_url": slack.stub.response_url(f"act{n}"),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block["block_id"],
                    "value": element["value"],
                    "action_ts": f"1700000200.{n:06d}",
                }
            ],
        }
    )
    assert status == 200


async def modal_after(slack: Harness, action_id: str) -> dict[str, Any]:
    before = len(slack.stub.ok_calls("views.open"))
    await press(slack, action_id)
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.open")) > before)
    view: dict[str, Any] = slack.stub.ok_calls("views.open")[-1].args["view"]
    return view


def mails(slack: Harness) -> list[OutboxItem]:
    with slack.desk.transaction() as session:
        query = select(OutboxItem).where(OutboxItem.channel == "mail")
        return list(session.exec(query.order_by(col(OutboxItem.id))).all())


def cases(slack: Harness) -> list[Case]:
    with slack.desk.transaction() as session:
        return list(session.exec(select(Case)).all())


async def test_open_a_case_with_another_kind_round_trip(slack: Harness) -> None:
    item_id = await arrived(slack)
    posted = slack.case_message()
    assert f"Review / Beoordelen {item_id}" in json.dumps(posted["blocks"])
    assert not any(w in json.dumps(posted) for w in SECRET_WORDS)
    assert mails(slack) == []
    modal = await modal_after(slack, ACTION_REVIEW_OPEN)
    slack.clock.advance(timedelta(hours=30).total_seconds())
    answer = await slack.submit(modal, {"kind": "erasure"})
    [case] = cases(slack)
    assert case.reference in answer and case.category == "erasure"
    assert (
        case.received_at
        == core.get_review(slack.desk, item_id=item_id, now=slack.clock()).received_at
    )
    assert [m.kind.removeprefix("auto.") for m in mails(slack)] == ["ack", "identity_code"]
    await slack.deliver()
    shown = json.dumps(slack.stub.messages())
    assert f"Opened as / Geopend als {case.reference} (<@{DESK_USER}>)" in shown
    review_message = next(
        m for m in slack.stub.messages().values() if f"Beoordelen {item_id}" in json.dumps(m)
    )
    assert "review_open" not in json.dumps(review_message)
    [event] = slack.audit("review_opened")
    assert event.actor == f"slack:{DESK_USER}" and event.reference == case.reference


async def test_not_a_request_sends_nothing_and_a_second_decision_is_refused(
    slack: Harness,
) -> None:
    item_id = await arrived(slack)
    stale = slack.case_message()
    modal = await modal_after(slack, ACTION_REVIEW_DISMISS)
    answer = await slack.submit(modal, {"note": "vraag over het advies, geen AVG"})
    assert "nothing sent" in answer and cases(slack) == [] and mails(slack) == []
    [event] = slack.audit("review_dismissed")
    assert event.note == "vraag over het advies, geen AVG"
    await slack.deliver()
    assert "Not a request / Geen verzoek" in json.dumps(slack.stub.messages())
    slack.stub.messages()["stale"] = stale  # a second person still sees the old buttons
    before = len(slack.stub.ok_calls("chat.postEphemeral"))
    await press(slack, ACTION_REVIEW_OPEN)
    await slack.stub.wait_for(lambda s: len(s.ok_calls("chat.postEphemeral")) > before)
    assert "already decided" in slack.stub.ok_calls("chat.postEphemeral")[-1].args["text"]
    assert core.get_review(slack.desk, item_id=item_id, now=slack.clock()).state == "dismissed"


async def test_a_stranger_is_refused_and_audited(slack: Harness) -> None:
    item_id = await arrived(slack)
    before = len(slack.stub.ok_calls("chat.postEphemeral"))
    await press(slack, ACTION_REVIEW_OPEN, user=STRANGER)
    await slack.stub.wait_for(lambda s: len(s.ok_calls("chat.postEphemeral")) > before)
    assert "Not authorised" in slack.stub.ok_calls("chat.postEphemeral")[-1].args["text"]
    assert slack.stub.ok_calls("views.open") == []
    [event] = slack.audit("unauthorised")
    assert event.actor == f"slack:{STRANGER}" and str(item_id) in json.dumps(event.details)
    answer = await slack.command("review", user=STRANGER)
    assert "Not authorised" in answer


async def test_dsr_review_lists_the_waiting_ones(slack: Harness) -> None:
    assert "nothing / niets" in await slack.command("review")
    item_id = await arrived(slack)
    answer = await slack.command("review")
    assert f"*Review {item_id}*" in answer and "h***@example.nl" in answer
    assert ACTION_REVIEW_OPEN in answer and not any(w in answer for w in SECRET_WORDS)
    assert "`/dsr review`" in await slack.command("help")
    assert "no arguments" in await slack.command("review 12")


async def test_the_reminder_goes_into_the_items_thread_once_a_day(slack: Harness) -> None:
    item_id = await arrived(slack)
    item_ts = next(iter(slack.stub.messages()))
    morning = slack.clock().replace(hour=7) + timedelta(days=2)  # two working days on
    run_sweep(slack.desk, now=morning)
    slack.clock.now = morning + timedelta(hours=3)
    run_sweep(slack.desk, now=slack.clock())
    await slack.deliver()
    threaded = [c for c in slack.stub.ok_calls("chat.postMessage") if c.args.get("thread_ts")]
    assert len(threaded) == 1
    assert threaded[0].args["thread_ts"] == item_ts
    assert f"Review {item_id} has waited 2 working day(s)" in threaded[0].args["text"]

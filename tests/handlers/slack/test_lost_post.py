"""A post that reached Slack from a worker that died before recording it: the row is sent
again after its lease and finds the post by its metadata. A case message is updated in place;
a note in a thread (a case's or a review item's) is recorded as sent and not posted again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.outbox import queue_slack
from bot.review_queue import REMINDER
from handlers.slack import posted_lookup
from handlers.slack.delivery import Result, Row, SlackDelivery
from handlers.slack.sender import post_case
from storage.cases import get_case_by_reference
from storage.models import Case
from storage.outbox import claim_due
from tests.handlers.slack.harness import Harness, open_case_as_intake
from tests.handlers.slack.test_review import arrived

LEASE = timedelta(minutes=2)


async def die_after_posting(slack: Harness, reference: str) -> str:
    """What a worker killed between Slack's answer and its own commit leaves behind."""
    with slack.desk.transaction() as session:
        [row] = claim_due(session=session, channel="slack", now=slack.clock(), limit=5, lease=LEASE)
        case = get_case_by_reference(session=session, reference=reference)
        assert case is not None and row.attempts == 1
    posted = await post_case(slack.deps, case)
    assert posted is not None
    return posted.ts


def case_of(slack: Harness, reference: str) -> Case:
    with slack.desk.transaction() as session:
        case = get_case_by_reference(session=session, reference=reference)
        assert case is not None
        return case


async def test_a_post_whose_worker_died_is_not_posted_again(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk)
    lost_ts = await die_after_posting(slack, reference)
    assert case_of(slack, reference).slack_ts is None
    slack.clock.advance((LEASE + timedelta(seconds=1)).total_seconds())

    await slack.deliver()

    assert len(slack.stub.ok_calls("chat.postMessage")) == 1
    [update] = slack.stub.ok_calls("chat.update")
    assert update.args["ts"] == lost_ts == case_of(slack, reference).slack_ts
    assert [item.state for item in slack.outbox()] == ["sent"]
    assert len(slack.stub.ok_calls("conversations.history")) == 1


async def test_a_first_attempt_does_not_read_the_channel(slack: Harness) -> None:
    open_case_as_intake(slack.desk)
    await SlackDelivery(slack.deps).deliver_due()
    assert slack.stub.ok_calls("conversations.history") == []
    assert len(slack.stub.ok_calls("chat.postMessage")) == 1


async def test_without_the_history_scope_the_case_is_posted_again(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk)
    await die_after_posting(slack, reference)
    slack.clock.advance((LEASE + timedelta(seconds=1)).total_seconds())
    slack.stub.fail_next(1, status=200, methods={"conversations.history"})

    await slack.deliver()

    assert len(slack.stub.ok_calls("chat.postMessage")) == 2  # at least once, never stuck
    assert [item.state for item in slack.outbox()] == ["sent"]


class Killed(Exception):
    """The worker's process ends here."""


async def die_before_recording(slack: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker pass whose process is killed after Slack answered, before the commit that
    records the row as sent: the row stays claimed until its lease runs out."""
    worker = SlackDelivery(slack.deps, lease=LEASE)

    def killed(row: Row, result: Result) -> None:
        raise Killed

    monkeypatch.setattr(worker, "_record", killed)
    with pytest.raises(Killed):
        await worker.deliver_due()
    assert [item.state for item in slack.outbox()][-1] == "sending"


def queue_note(slack: Harness, reference: str, n: int = 1) -> None:
    with slack.desk.transaction() as session:
        queue_slack(
            slack.desk,
            session=session,
            case=get_case_by_reference(session=session, reference=reference),
            kind="thread_note",
            dedupe_key=f"slack:reply:test:{n}",
            now=slack.clock(),
            payload={"note": "reply"},
        )


async def posted_case(slack: Harness) -> tuple[str, str]:
    """A case whose message is in the channel; its reference and the message's ts."""
    reference = open_case_as_intake(slack.desk)
    await slack.deliver()
    ts = case_of(slack, reference).slack_ts
    assert ts is not None
    return reference, ts


def after_the_lease(slack: Harness) -> None:
    slack.clock.advance((LEASE + timedelta(seconds=1)).total_seconds())


async def test_a_note_whose_worker_died_is_not_posted_again(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, thread = await posted_case(slack)
    queue_note(slack, reference)
    await die_before_recording(slack, monkeypatch)
    assert len(slack.stub.replies(thread)) == 1  # Slack has the note
    after_the_lease(slack)

    await slack.deliver()

    assert len(slack.stub.replies(thread)) == 1
    assert [item.state for item in slack.outbox()] == ["sent", "sent"]
    [read] = slack.stub.ok_calls("conversations.replies")
    assert read.args["ts"] == thread


async def test_a_first_note_attempt_does_not_read_the_thread(slack: Harness) -> None:
    reference, thread = await posted_case(slack)
    queue_note(slack, reference)

    await slack.deliver()

    assert slack.stub.ok_calls("conversations.replies") == []
    [note] = slack.stub.replies(thread).values()
    row = slack.outbox()[-1]
    # the mark names the outbox row and nothing else (no address, no text)
    expected = {"event_type": "dsr_note", "event_payload": {"outbox": str(row.id)}}
    assert note["metadata"] == expected


async def test_a_note_slack_never_took_is_posted_once_when_sent_again(slack: Harness) -> None:
    reference, thread = await posted_case(slack)
    queue_note(slack, reference)
    with slack.desk.transaction() as session:  # a worker claims the row and dies at once
        claim_due(session=session, channel="slack", now=slack.clock(), limit=5, lease=LEASE)
    after_the_lease(slack)

    await slack.deliver()

    assert len(slack.stub.replies(thread)) == 1
    assert len(slack.stub.ok_calls("conversations.replies")) == 1
    assert [item.state for item in slack.outbox()] == ["sent", "sent"]


async def test_a_note_beyond_the_first_page_of_the_thread_is_found(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, thread = await posted_case(slack)
    for n in range(3):
        queue_note(slack, reference, n)
    await slack.deliver()
    queue_note(slack, reference, 3)
    await die_before_recording(slack, monkeypatch)
    monkeypatch.setattr(posted_lookup, "HISTORY_LIMIT", 2)  # the thread comes oldest first
    after_the_lease(slack)

    await slack.deliver()

    assert len(slack.stub.replies(thread)) == 4
    assert len(slack.stub.ok_calls("conversations.replies")) == 3  # parent+1, 2, 1
    assert {item.state for item in slack.outbox()} == {"sent"}


async def test_when_the_thread_cannot_be_read_the_note_is_posted_again(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, thread = await posted_case(slack)
    queue_note(slack, reference)
    await die_before_recording(slack, monkeypatch)
    after_the_lease(slack)
    slack.stub.errors["conversations.replies"] = "missing_scope"

    await slack.deliver()

    assert len(slack.stub.replies(thread)) == 2  # at least once, never stuck
    assert [item.state for item in slack.outbox()] == ["sent", "sent"]


def queue_review_reminder(slack: Harness, item_id: int) -> None:
    with slack.desk.transaction() as session:
        queue_slack(
            slack.desk,
            session=session,
            case=None,
            kind=REMINDER,
            dedupe_key=f"review:reminder:{item_id}:test",
            now=slack.clock(),
            payload={"review": item_id, "waiting_days": 2},
        )


async def test_a_review_reminder_whose_worker_died_is_not_posted_again(
    slack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = await arrived(slack)
    [thread] = slack.stub.messages()
    queue_review_reminder(slack, item_id)
    await die_before_recording(slack, monkeypatch)
    after_the_lease(slack)

    await slack.deliver()

    [reminder] = slack.stub.replies(thread).values()
    assert reminder["metadata"]["event_type"] == "dsr_note"
    assert len(slack.stub.ok_calls("conversations.replies")) == 1
    assert {item.state for item in slack.outbox()} == {"sent"}

"""A case message that reached Slack from a worker that died before recording it: the row is
sent again after its lease, finds the message by its metadata and updates it in place."""

from __future__ import annotations

from datetime import timedelta

from handlers.slack.delivery import SlackDelivery
from handlers.slack.sender import post_case
from storage.cases import get_case_by_reference
from storage.models import Case
from storage.outbox import claim_due
from tests.handlers.slack.harness import Harness, open_case_as_intake

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

"""The Slack outbox worker against the stub: posts, updates in place, retries, order."""

from __future__ import annotations

import json

from bot import cases as core
from bot.outbox import queue_slack
from storage.cases import get_case_by_reference
from tests.handlers.slack.harness import CHANNEL, Harness, open_case_as_intake


def stored_ts(slack: Harness, reference: str) -> str | None:
    with slack.desk.transaction() as session:
        case = get_case_by_reference(session=session, reference=reference)
        assert case is not None
        return case.slack_ts


async def test_new_case_is_posted_masked_and_without_body(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk, requester="jan.jansen@example.nl")
    await slack.deliver()
    [post] = slack.stub.ok_calls("chat.postMessage")
    shown = json.dumps(post.args)
    assert post.args["channel"] == CHANNEL
    assert reference in shown and "j***@example.nl" in shown
    assert "jan.jansen" not in shown
    assert stored_ts(slack, reference) is not None
    assert [i.state for i in slack.outbox()] == ["sent"]


async def test_case_change_updates_the_message_in_place(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk)
    await slack.deliver()
    core.assign(
        slack.desk, reference=reference, assignee="slack:UANNA", actor="cli:x", now=slack.clock()
    )
    await slack.deliver()
    [update] = slack.stub.ok_calls("chat.update")
    assert update.args["ts"] == stored_ts(slack, reference)
    assert "<@UANNA>" in json.dumps(update.args["blocks"])
    assert len(slack.stub.ok_calls("chat.postMessage")) == 1


async def test_thread_note_goes_into_the_case_thread(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk)
    with slack.desk.transaction() as session:
        case = get_case_by_reference(session=session, reference=reference)
        queue_slack(
            slack.desk,
            session=session,
            case=case,
            kind="thread_note",
            dedupe_key="slack:reply:1",
            now=slack.clock(),
            payload={"note": "reply"},
        )
    await slack.deliver()
    first, note = slack.stub.ok_calls("chat.postMessage")
    assert "thread_ts" not in first.args
    assert note.args["thread_ts"] == stored_ts(slack, reference)
    assert "Reply received" in note.args["text"]


async def test_429_then_success_posts_exactly_once(slack: Harness) -> None:
    open_case_as_intake(slack.desk)
    slack.stub.fail_next(1, status=429, retry_after=1, methods={"chat.postMessage"})
    await slack.deliver()
    statuses = [c.status for c in slack.stub.calls if c.method == "chat.postMessage"]
    assert statuses == [429, 200]
    assert [i.state for i in slack.outbox()] == ["sent"]


async def test_long_retry_after_goes_back_to_the_outbox(slack: Harness) -> None:
    open_case_as_intake(slack.desk)
    slack.stub.fail_next(1, status=429, retry_after=30, methods={"chat.postMessage"})
    await slack.deliver()
    [item] = slack.outbox()
    assert item.state == "pending" and "429" in item.last_error
    assert (item.next_attempt_at - slack.clock()).total_seconds() >= 30
    slack.clock.advance(31)
    await slack.deliver()
    assert len(slack.stub.ok_calls("chat.postMessage")) == 1
    assert [i.state for i in slack.outbox()] == ["sent"]


async def test_slack_down_then_up_delivers_everything_once_in_order(slack: Harness) -> None:
    refs = [open_case_as_intake(slack.desk, requester=f"p{i}@example.nl") for i in range(3)]
    for ref in refs:
        core.change_kind(
            slack.desk, reference=ref, kind="erasure", actor="cli:x", now=slack.clock()
        )
        core.assign(slack.desk, reference=ref, assignee="marieke", actor="cli:x", now=slack.clock())
    slack.stub.fail_next(4, status=503)
    for _ in range(12):  # an hour of outage and recovery, in worker passes
        await slack.deliver()
        slack.clock.advance(300)
    assert all(i.state == "sent" for i in slack.outbox())
    ok = [c for c in slack.stub.calls if c.status == 200 and c.method.startswith("chat.")]
    assert len(ok) == 9  # 3 posts and 6 updates, none doubled
    for ref in refs:
        methods = [c.method for c in ok if ref in json.dumps(c.args)]
        assert methods == ["chat.postMessage", "chat.update", "chat.update"]
    assert len(slack.stub.messages()) == 3


async def test_later_row_waits_while_an_earlier_one_of_its_case_is_pending(
    slack: Harness,
) -> None:
    reference = open_case_as_intake(slack.desk)
    slack.stub.fail_next(1, status=500, methods={"chat.postMessage"})
    await slack.deliver()  # the post fails and is rescheduled
    core.assign(
        slack.desk, reference=reference, assignee="marieke", actor="cli:x", now=slack.clock()
    )
    await slack.deliver()  # the update is due now, but its case's post is not
    assert slack.stub.ok_calls("chat.update") == []
    assert slack.stub.ok_calls("chat.postMessage") == []
    slack.clock.advance(120)
    await slack.deliver()
    methods = [c.method for c in slack.stub.calls if c.status == 200 and c.method != "auth.test"]
    # a post sent again first looks whether the failed attempt reached the channel after all
    assert methods == ["conversations.history", "chat.postMessage", "chat.update"]


async def test_deleted_message_is_posted_again(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk)
    await slack.deliver()
    slack.stub.messages().clear()
    core.assign(
        slack.desk, reference=reference, assignee="marieke", actor="cli:x", now=slack.clock()
    )
    await slack.deliver()
    assert len(slack.stub.ok_calls("chat.postMessage")) == 2
    assert stored_ts(slack, reference) == sorted(slack.stub.messages())[-1]

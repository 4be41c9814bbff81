"""`/dsr` through the real endpoint: answers, usage lines, refusals, retried deliveries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot import cases as core
from storage.cases import get_case_by_reference
from tests.factories import new_case
from tests.handlers.slack.harness import DESK_USER, STRANGER, Harness


async def test_wrong_arguments_get_the_usage_line(slack: Harness) -> None:
    answer = await slack.command("assign DSR-2026-0001 marieke")
    assert "`/dsr assign REF @user`" in answer


async def test_unknown_reference_suggests_dsr_list(slack: Harness) -> None:
    answer = await slack.command("show DSR-2026-0999")
    assert "DSR-2026-0999" in answer and "/dsr list" in answer
    answer = await slack.command("extend DSR-2026-0999 too many files")
    assert "/dsr list" in answer


async def test_list_overdue_and_show(slack: Harness) -> None:
    late = new_case(slack.desk, requester="laat@example.nl")
    slack.clock.advance(timedelta(days=40).total_seconds())
    fresh = new_case(slack.desk, requester="vers@example.nl", received_at=slack.clock())
    answer = await slack.command("list overdue")
    assert late.reference in answer and fresh.reference not in answer
    assert "OVERDUE" in answer
    answer = await slack.command(f"show {late.reference.lower()}")
    assert "l***@example.nl" in answer and "laat@example.nl" not in answer
    assert "case_opened" in answer


async def test_assign_by_command_records_the_slack_actor(slack: Harness) -> None:
    case = new_case(slack.desk)
    answer = await slack.command(f"assign {case.reference} <@UANNA|anna>")
    assert "<@UANNA>" in answer
    current = core.get_case(slack.desk, reference=case.reference)
    assert current.assignee == "slack:UANNA"
    [event] = slack.audit("assigned")
    assert event.actor == f"slack:{DESK_USER}"


async def test_refusal_from_the_core_is_said_plainly(slack: Harness) -> None:
    case = new_case(slack.desk)
    answer = await slack.command(f"close {case.reference} done all sent")
    assert "not verified" in answer
    assert core.get_case(slack.desk, reference=case.reference).state == "awaiting_identity"


async def test_unauthorised_user_is_refused_and_audited(slack: Harness) -> None:
    case = new_case(slack.desk)
    answer = await slack.command(f"assign {case.reference} <@USTRANGER>", user=STRANGER)
    assert "Not authorised" in answer and "Niet bevoegd" in answer
    assert core.get_case(slack.desk, reference=case.reference).assignee is None
    [event] = slack.audit("unauthorised")
    assert event.actor == f"slack:{STRANGER}"
    assert slack.audit("assigned") == []


async def test_retried_delivery_does_not_act_twice(slack: Harness) -> None:
    case = new_case(slack.desk)
    body = slack.command_body(f"kind {case.reference} erasure", trigger="trigger.same")
    form = "application/x-www-form-urlencoded"
    assert await slack.post(body, content_type=form) == 200
    await slack.stub.wait_for(lambda s: len(s.responses) == 1)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert await slack.post(body, content_type=form, headers=retry) == 200
    await asyncio.sleep(0.3)
    assert len(slack.audit("kind_changed")) == 1
    assert len(slack.stub.responses) == 1
    with slack.desk.transaction() as session:
        current = get_case_by_reference(session=session, reference=case.reference)
        assert current is not None and current.version == 2


async def test_stats_counts_states(slack: Harness) -> None:
    new_case(slack.desk)
    new_case(slack.desk, requester="b@example.nl")
    answer = await slack.command("stats")
    assert "Awaiting identity / Wacht op identiteit: 2" in answer

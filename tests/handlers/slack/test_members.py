"""Who may act: cached membership with a TTL, refreshed, kept through an outage."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.desk import Desk
from handlers.service import Skipped, Subsystem
from handlers.slack.members import Membership, member_fetcher
from handlers.slack.wiring import slack_plan
from tests.slack_stub import SlackStub


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_members_are_cached_and_refreshed() -> None:
    fetched: list[frozenset[str]] = [frozenset({"U1"}), frozenset({"U1", "U2"})]
    calls = 0

    async def fetch() -> frozenset[str]:
        nonlocal calls
        calls += 1
        return fetched[min(calls - 1, 1)]

    tick = Ticker()
    members = Membership(fetch=fetch, ttl=300, miss_refresh=30, clock=tick)
    assert await members.allows("U1") and calls == 1
    assert not await members.allows("U2") and calls == 1  # a miss refreshes only after 30 s
    tick.now = 31
    assert await members.allows("U2") and calls == 2
    tick.now = 32
    assert await members.allows("U1") and calls == 2


async def test_last_known_members_are_kept_when_slack_fails() -> None:
    calls = 0

    async def fetch() -> frozenset[str]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise OSError("slack unreachable")
        return frozenset({"U1"})

    tick = Ticker()
    members = Membership(fetch=fetch, ttl=10, clock=tick)
    assert await members.allows("U1")
    tick.now = 100
    assert await members.allows("U1") and calls == 2


async def test_usergroup_wins_over_channel(stub: SlackStub) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=stub.api_url)
    assert await member_fetcher(client, usergroup="S1", channel="C1")() == stub.members
    assert [c.method for c in stub.calls] == ["usergroups.users.list"]
    assert await member_fetcher(client, usergroup="", channel="C1")() == stub.members
    assert stub.calls[-1].method == "conversations.members"
    stub.fail_next(1, status=404, methods={"conversations.members"})
    with pytest.raises(SlackApiError):
        await member_fetcher(client, usergroup="", channel="C1")()


def test_slack_is_off_without_a_bot_token(desk: Desk) -> None:
    part = slack_plan(desk)
    assert isinstance(part, Skipped) and part.why == "no SLACK_BOT_TOKEN"


def test_slack_runs_with_a_bot_token(slack_desk: Desk) -> None:
    assert isinstance(slack_plan(slack_desk), Subsystem)

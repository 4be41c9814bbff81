"""Fixtures: the Slack stub, a desk configured for Slack, and the app listening on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.desk import Desk
from handlers.slack.app import build_app, build_deps
from handlers.slack.http import start_http
from tests.factories import T0, make_settings
from tests.handlers.slack.harness import (
    CHANNEL,
    DESK_USER,
    OTHER_DESK_USER,
    SECRET,
    Clock,
    Harness,
)
from tests.slack_stub import SlackStub


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    server = SlackStub(members={DESK_USER, OTHER_DESK_USER})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(days=1))


@pytest.fixture
def slack_desk(engine: Engine, db_url: str, tmp_path: object, stub: SlackStub) -> Desk:
    settings = make_settings(
        db_url,
        tmp_path,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
    )
    return Desk(settings=settings, engine=engine)


@pytest.fixture
async def slack(slack_desk: Desk, clock: Clock, stub: SlackStub) -> AsyncIterator[Harness]:
    deps = build_deps(slack_desk, clock=clock)
    bolt = build_app(deps)
    runner, port = await start_http(bolt, host="127.0.0.1", port=0)
    yield Harness(deps=deps, stub=stub, port=port, clock=clock)
    await runner.cleanup()

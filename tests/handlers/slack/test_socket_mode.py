"""Socket Mode end to end: `run_slack` with an app token fetches a WebSocket URL from the Web
API stub (`apps.connections.open`), and a local stand-in for Slack's socket sends slash
commands, button presses and modal submissions as envelopes, checks the acks and the effects,
and cuts the connection: the app reconnects, and an envelope Slack sends again acts once."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from handlers.slack.app import run_slack
from handlers.slack.blocks import ACTION_VERIFY
from storage.models import AuditEvent
from tests.factories import make_settings
from tests.handlers.slack.harness import (
    CHANNEL,
    DESK_USER,
    Clock,
    actions_block,
    open_case_as_intake,
)
from tests.handlers.slack.socket_server import SocketStandIn
from tests.slack_stub import SlackStub

_ids = itertools.count(1)


@dataclass
class Running:
    desk: Desk
    stub: SlackStub
    socket: SocketStandIn

    def audit(self, action: str) -> int:
        with self.desk.transaction() as session:
            return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())

    async def posted_case(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        """A case as intake opens it, once its message is in the channel."""
        reference = open_case_as_intake(self.desk, **kwargs)
        await self.stub.wait_for(lambda s: len(s.messages()) == 1, timeout=10)
        return reference, next(iter(self.stub.messages().values()))

    async def answer(self, response_url: str) -> dict[str, Any]:
        name = response_url.rsplit("/", 1)[1]
        await self.stub.wait_for(lambda s: any(r["url"] == name for r in s.responses), 10)
        return next(r for r in self.stub.responses if r["url"] == name)


def command(stub: SlackStub, text: str) -> dict[str, Any]:
    n = next(_ids)
    return {
        "token": "legacy",
        "team_id": "T1",
        "channel_id": CHANNEL,
        "user_id": DESK_USER,
        "command": "/dsr",
        "text": text,
        "response_url": stub.response_url(f"cmd{n}"),
        "trigger_id": f"trigger.cmd{n}",
    }


def press(
    stub: SlackStub, message: dict[str, Any], action_id: str, *, selected: str | None = None
) -> dict[str, Any]:
    block = actions_block(message)
    element = next(e for e in block["elements"] if e["action_id"] == action_id)
    n = next(_ids)
    action: dict[str, Any] = {
        "type": element["type"],
        "action_id": action_id,
        "block_id": block["block_id"],
        "action_ts": f"1700000200.{n:06d}",
    }
    if "value" in element:
        action["value"] = element["value"]
    if selected is not None:
        action["selected_option"] = {"value": selected, "text": {"type": "plain_text"}}
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": DESK_USER},
        "api_app_id": "A1",
        "trigger_id": f"trigger.act{n}",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL},
        "response_url": stub.response_url(f"act{n}"),
        "actions": [action],
    }


def submission(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    state = {
        block_id: {"value": {"type": "x", "value": v, "selected_option": {"value": v}}}
        for block_id, v in values.items()
    }
    n = next(_ids)
    return {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": DESK_USER},
        "api_app_id": "A1",
        "trigger_id": f"trigger.view{n}",
        "view": {**view, "id": f"V{n}", "hash": f"h{n}", "state": {"values": state}},
    }


@pytest.fixture
async def running(
    engine: Engine, db_url: str, tmp_path: object, stub: SlackStub, clock: Clock
) -> AsyncIterator[Running]:
    settings = make_settings(
        db_url,
        tmp_path,
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test",
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
    )
    desk = Desk(settings=settings, engine=engine)
    socket = SocketStandIn()
    await socket.start()
    stub.socket_url = socket.url
    stop = asyncio.Event()
    task = asyncio.create_task(run_slack(desk, stop, clock=clock))
    try:
        await socket.wait_for(lambda s: s.connections == 1)
        yield Running(desk=desk, stub=stub, socket=socket)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await socket.stop()


async def test_commands_buttons_and_modals_over_the_socket_are_acked_and_act(
    running: Running,
) -> None:
    stub, socket = running.stub, running.socket
    reference, message = await running.posted_case()
    assert len(stub.ok_calls("apps.connections.open")) == 1

    shown = command(stub, f"show {reference}")
    envelope = await socket.send("slash_commands", shown)
    assert await socket.ack(envelope) == {"envelope_id": envelope}
    assert reference in str(await running.answer(shown["response_url"]))

    pressed = press(stub, message, "case_assign_me")
    envelope = await socket.send("interactive", pressed)
    assert await socket.ack(envelope) == {"envelope_id": envelope}
    assert f"<@{DESK_USER}>" in (await running.answer(pressed["response_url"]))["text"]
    case = core.get_case(running.desk, reference=reference)
    assert case.assignee == f"slack:{DESK_USER}" and running.audit("assigned") == 1

    await socket.ack(await socket.send("interactive", press(stub, message, ACTION_VERIFY)))
    await stub.wait_for(lambda s: len(s.ok_calls("views.open")) == 1)
    view = stub.ok_calls("views.open")[0].args["view"]
    empty = await socket.send("interactive", submission(view, {"note": ""}))
    refused = await socket.ack(empty)
    assert refused["envelope_id"] == empty
    assert refused["payload"]["response_action"] == "errors" and "note" in str(refused)
    assert not core.get_case(running.desk, reference=reference).verified_at

    filled = await socket.send("interactive", submission(view, {"note": "called back"}))
    assert await socket.ack(filled) == {"envelope_id": filled}
    await stub.wait_for(lambda s: len(s.ok_calls("chat.postEphemeral")) == 1)
    assert "verified" in stub.ok_calls("chat.postEphemeral")[0].args["text"]
    assert core.get_case(running.desk, reference=reference).verified_at is not None
    assert running.audit("verified") == 1


class _Seen(logging.Handler):
    """Sets an event when the guard says a delivery came again."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.INFO)
        self.loop, self.event, self.count = loop, asyncio.Event(), 0

    def emit(self, record: logging.LogRecord) -> None:
        if "delivered again" in record.getMessage():
            self.count += 1
            self.loop.call_soon_threadsafe(self.event.set)


@contextlib.contextmanager
def watching_duplicates() -> Iterator[_Seen]:
    seen = _Seen(asyncio.get_running_loop())
    guard = logging.getLogger("dsr.slack")
    level = guard.level
    guard.addHandler(seen)
    guard.setLevel(logging.INFO)
    try:
        yield seen
    finally:
        guard.removeHandler(seen)
        guard.setLevel(level)


async def test_a_cut_socket_reconnects_and_an_envelope_sent_again_acts_once(
    running: Running,
) -> None:
    stub, socket = running.stub, running.socket
    reference, message = await running.posted_case(needs_triage=True)
    with watching_duplicates() as seen:
        # The app acts and acks; the ack is lost, so Slack will send the envelope again.
        kind = press(stub, message, "case_kind", selected="erasure")
        first = await socket.send("interactive", kind, lose_ack=True)
        assert "Erasure" in (await running.answer(kind["response_url"]))["text"]
        await socket.wait_for(lambda s: any(a["envelope_id"] == first for a in s.answers))

        await socket.drop()
        # Sent around the cut: delivered on whichever connection is up, never lost.
        assign = press(stub, message, "case_assign_me")
        second = await socket.send("interactive", assign)
        await socket.wait_for(lambda s: s.connections == 2)
        assert await socket.ack(first) == {"envelope_id": first}
        assert await socket.ack(second) == {"envelope_id": second}
        await asyncio.wait_for(seen.event.wait(), timeout=10)
        await running.answer(assign["response_url"])

        after = command(stub, f"show {reference}")
        third = await socket.send("slash_commands", after)
        assert await socket.ack(third) == {"envelope_id": third}
        assert "Erasure" in str(await running.answer(after["response_url"]))

    assert len(stub.ok_calls("apps.connections.open")) == 2
    assert socket.times_sent(first) == 2 and seen.count == 1
    case = core.get_case(running.desk, reference=reference)
    assert case.category == "erasure" and case.assignee == f"slack:{DESK_USER}"
    assert running.audit("kind_changed") == 1 and running.audit("assigned") == 1
    kind_name = kind["response_url"].rsplit("/", 1)[1]
    assert [r["url"] for r in stub.responses].count(kind_name) == 1

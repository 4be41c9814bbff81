"""Driving the real Slack app over HTTP with signed requests, against the Slack stub."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlmodel import col, select

from bot.desk import Desk
from handlers.slack.delivery import SlackDelivery
from handlers.slack.deps import SlackDeps
from storage.models import AuditEvent, OutboxItem
from tests.slack_stub import SlackStub

SECRET = "test-signing-secret"
CHANNEL = "C0DESK"
DESK_USER, OTHER_DESK_USER, STRANGER = "UDESK", "UANNA", "USTRANGER"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature over `v0:{timestamp}:{body}`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Harness:
    deps: SlackDeps
    stub: SlackStub
    port: int
    clock: Clock
    ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def desk(self) -> Desk:
        return self.deps.desk

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def post(
        self, body: str, *, content_type: str, headers: dict[str, str] | None = None
    ) -> int:
        sent = {"Content-Type": content_type, **sign(body), **(headers or {})}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body.encode(), headers=sent) as response,
        ):
            await response.read()
            return response.status

    def command_body(self, text: str, *, user: str = DESK_USER, trigger: str = "") -> str:
        n = next(self.ids)
        return urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "channel_id": CHANNEL,
                "user_id": user,
                "command": "/dsr",
                "text": text,
                "response_url": self.stub.response_url(f"cmd{n}"),
                "trigger_id": trigger or f"trigger.{n}",
            }
        )

    async def command(self, text: str, *, user: str = DESK_USER, wait: bool = True) -> str:
        """Run `/dsr text`; returns the ephemeral answer's text."""
        before = len(self.stub.responses)
        status = await self.post(
            self.command_body(text, user=user), content_type="application/x-www-form-urlencoded"
        )
        assert status == 200
        if not wait:
            return ""
        await self.stub.wait_for(lambda s: len(s.responses) > before)
        answer = self.stub.responses[-1]
        assert answer["response_type"] == "ephemeral"
        return str(answer["text"]) + json.dumps(answer.get("blocks") or [])

    async def interactive(self, payload: dict[str, Any], **headers: str) -> int:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(
            body, content_type="application/x-www-form-urlencoded", headers=headers
        )

    async def press(
        self,
        action_id: str,
        block: dict[str, Any],
        *,
        user: str = DESK_USER,
        selected: str | None = None,
    ) -> str:
        """Press a button (or pick from the select) of a case message; returns the answer."""
        element = next(e for e in block["elements"] if e["action_id"] == action_id)
        n = next(self.ids)
        action: dict[str, Any] = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block["block_id"],
            "action_ts": f"1700000100.{n:06d}",
        }
        if "value" in element:
            action["value"] = element["value"]
        if selected is not None:
            action["selected_option"] = {"value": selected, "text": {"type": "plain_text"}}
        before = len(self.stub.responses)
        status = await self.interactive(
            {
                "type": "block_actions",
                "team": {"id": "T1"},
                "user": {"id": user},
                "api_app_id": "A1",
                "trigger_id": f"trigger.{n}",
                "channel": {"id": CHANNEL},
                "container": {"type": "message", "channel_id": CHANNEL},
                "response_url": self.stub.response_url(f"act{n}"),
                "actions": [action],
            }
        )
        assert status == 200
        if action_id in {"case_verify", "case_extend", "case_close"}:
            return ""
        await self.stub.wait_for(lambda s: len(s.responses) > before)
        return str(self.stub.responses[-1]["text"])

    async def submit(
        self, view: dict[str, Any], values: dict[str, str], *, user: str = DESK_USER
    ) -> str:
        """Submit a modal the app opened, with `values` by block id; returns the answer."""
        state = {
            block_id: {"value": {"type": "x", "value": v, "selected_option": {"value": v}}}
            for block_id, v in values.items()
        }
        n = next(self.ids)
        before = len(self.stub.ok_calls("chat.postEphemeral"))
        status = await self.interactive(
            {
                "type": "view_submission",
                "team": {"id": "T1"},
                "user": {"id": user},
                "api_app_id": "A1",
                "trigger_id": f"trigger.{n}",
                "view": {**view, "id": f"V{n}", "hash": f"h{n}", "state": {"values": state}},
            }
        )
        assert status == 200
        await self.stub.wait_for(lambda s: len(s.ok_calls("chat.postEphemeral")) > before)
        return str(self.stub.ok_calls("chat.postEphemeral")[-1].args["text"])

    def event_body(self, event: dict[str, Any], *, event_id: str) -> str:
        return json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )

    async def deliver(self) -> None:
        """Run the Slack outbox worker until nothing is due now."""
        worker = SlackDelivery(self.deps)
        while await worker.deliver_due():
            pass

    def case_message(self, ts: str | None = None) -> dict[str, Any]:
        messages = self.stub.messages()
        return messages[ts] if ts else messages[sorted(messages)[-1]]

    def audit(self, action: str) -> list[AuditEvent]:
        with self.desk.transaction() as session:
            return list(
                session.exec(
                    select(AuditEvent)
                    .where(AuditEvent.action == action)
                    .order_by(col(AuditEvent.id))
                ).all()
            )

    def outbox(self) -> list[OutboxItem]:
        with self.desk.transaction() as session:
            return list(
                session.exec(
                    select(OutboxItem)
                    .where(OutboxItem.channel == "slack")
                    .order_by(col(OutboxItem.id))
                ).all()
            )


def actions_block(message: dict[str, Any]) -> dict[str, Any]:
    blocks = message["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return next(b for b in blocks if b["type"] == "actions")


def open_case_as_intake(desk: Desk, **kwargs: Any) -> str:
    """A new case with its `case_posted` row, as intake queues it; returns the reference."""
    from bot.outbox import queue_slack
    from tests.factories import new_case

    case = new_case(desk, **kwargs)
    with desk.transaction() as session:
        queue_slack(
            desk,
            session=session,
            case=case,
            kind="case_posted",
            dedupe_key=f"slack:post:{case.id}",
            now=case.created_at,
        )
    return case.reference

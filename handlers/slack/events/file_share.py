"""Event `message` (subtype `file_share`): an export handed in by a task's owner in a case's
thread (handlers/slack/exports.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.exports import Share, receive_share
from handlers.slack.guard import claimed


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.event({"type": "message", "subtype": "file_share"})
    async def file_shared(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        if event.get("bot_id") or not event.get("user"):
            return
        if await claimed(deps, body):
            await receive_share(deps, Share.of(event))

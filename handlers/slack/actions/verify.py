"""Button "Verify": opens a modal; the change happens when it is submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack.actions.common import admitted, channel_of
from handlers.slack.blocks import ACTION_VERIFY, build_verify_modal
from handlers.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_VERIFY)
    async def open_verify(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        found = await admitted(deps, body, respond, what="verify")
        if found is None:
            return
        stamp, _user = found
        view = build_verify_modal(stamp.encode(), channel=channel_of(body, deps))
        await deps.client.views_open(trigger_id=body["trigger_id"], view=view)

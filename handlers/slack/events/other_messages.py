"""Every other `message` event in the channel (the app subscribes to them for the files shared
in a case's thread): acknowledged and left alone, so that Slack does not deliver it again.
Bolt runs the first listener that matches, so this one is registered last."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.event("message")
    async def other_message(ack: AsyncAck) -> None:
        await ack()

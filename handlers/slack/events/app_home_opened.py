"""Event `app_home_opened`: publish the queue (or a refusal) on the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, admit
from handlers.slack.home import publish_home


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.event("app_home_opened")
    async def home_opened(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        if event.get("tab", "home") != "home":
            return
        verdict = await admit(deps, body, what="app home")
        if verdict is not Verdict.DUPLICATE:
            await publish_home(deps, str(event["user"]), allowed=verdict is Verdict.ACT)

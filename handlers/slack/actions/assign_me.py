"""Button "Assign to me"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack.actions.common import admitted, whisper
from handlers.slack.blocks import ACTION_ASSIGN_ME
from handlers.slack.deps import SlackDeps
from handlers.slack.triage import run_action


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_ASSIGN_ME)
    async def assign_me(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        found = await admitted(deps, body, respond, what="assign")
        if found is None:
            return
        stamp, user = found
        outcome = await run_action(
            deps,
            "assign",
            reference=stamp.reference,
            user_id=user,
            shown=stamp,
            arguments={"assignee": f"slack:{user}"},
        )
        await whisper(respond, outcome.text)

"""Select "Change kind"."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack.actions.common import admitted, whisper
from handlers.slack.blocks import ACTION_KIND
from handlers.slack.deps import SlackDeps
from handlers.slack.triage import run_action


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_KIND)
    async def change_kind(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        found = await admitted(deps, body, respond, what="kind")
        if found is None:
            return
        stamp, user = found
        selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
        outcome = await run_action(
            deps,
            "kind",
            reference=stamp.reference,
            user_id=user,
            shown=stamp,
            arguments={"kind": selected},
        )
        await whisper(respond, outcome.text)

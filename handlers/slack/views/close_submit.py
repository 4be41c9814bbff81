"""Modal "Close" submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.blocks import MODAL_CLOSE
from handlers.slack.deps import SlackDeps
from handlers.slack.views.common import form, missing, submit


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_CLOSE)
    async def close_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        values = form(body)
        if errors := missing(values, "outcome", "note"):
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await submit(
            deps, body, "close", values, {"outcome": values["outcome"], "note": values["note"]}
        )

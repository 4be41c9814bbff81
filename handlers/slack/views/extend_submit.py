"""Modal "Extend" submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.blocks import MODAL_EXTEND
from handlers.slack.deps import SlackDeps
from handlers.slack.views.common import form, missing, submit


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_EXTEND)
    async def extend_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        values = form(body)
        if errors := missing(values, "note"):
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await submit(deps, body, "extend", values, {"reasons": values["note"]})

"""Modal "Verify by hand" submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.blocks import MODAL_VERIFY
from handlers.slack.deps import SlackDeps
from handlers.slack.views.common import form, missing, submit


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_VERIFY)
    async def verify_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        values = form(body)
        if errors := missing(values, "note"):
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await submit(deps, body, "verify", values, {"note": values["note"]})

"""Modal "Open a case" of a review item submitted: the case is opened with the chosen kind."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.review_blocks import MODAL_REVIEW_OPEN, modal_item
from handlers.slack.reviews import admitted, decide, tell
from handlers.slack.views.common import form, missing


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_REVIEW_OPEN)
    async def review_open_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        values = form(body)
        if errors := missing(values, "kind"):
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        item_id = modal_item(body.get("view") or {})
        if item_id is None or not await admitted(deps, body, item_id=item_id, what="review_open"):
            return
        text = await decide(deps, body, "open", item_id=item_id, kind=values["kind"])
        await tell(deps, body, text, channel=values.get("meta.channel", ""))

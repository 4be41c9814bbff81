"""Modal "Not a request" of a review item submitted: the item is closed; nothing is sent."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.review_blocks import MODAL_REVIEW_DISMISS, modal_item
from handlers.slack.reviews import admitted, decide, tell
from handlers.slack.views.common import form


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_REVIEW_DISMISS)
    async def review_dismiss_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        values = form(body)
        item_id = modal_item(body.get("view") or {})
        if item_id is None:
            return
        if not await admitted(deps, body, item_id=item_id, what="review_dismiss"):
            return
        text = await decide(deps, body, "dismiss", item_id=item_id, note=values.get("note"))
        await tell(deps, body, text, channel=values.get("meta.channel", ""))

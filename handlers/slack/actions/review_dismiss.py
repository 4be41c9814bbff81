"""Button "Not a request" on a review item: a modal for an optional note; the item is closed
when it is submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.actions.common import channel_of
from handlers.slack.deps import SlackDeps
from handlers.slack.review_blocks import (
    ACTION_REVIEW_DISMISS,
    build_review_dismiss_modal,
    item_of,
)
from handlers.slack.reviews import admitted


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_REVIEW_DISMISS)
    async def dismiss_review(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        item_id = item_of(str((body.get("actions") or [{}])[0].get("value") or ""))
        if item_id is None:
            return
        if not await admitted(deps, body, item_id=item_id, what="review_dismiss"):
            return
        modal = build_review_dismiss_modal(item_id, channel=channel_of(body, deps))
        await deps.client.views_open(trigger_id=body["trigger_id"], view=modal)

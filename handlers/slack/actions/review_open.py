"""Button "Open a case" on a review item: a modal with the kind preselected; the case is
opened when it is submitted."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import review as core
from handlers.slack.actions.common import channel_of
from handlers.slack.deps import SlackDeps
from handlers.slack.review_blocks import ACTION_REVIEW_OPEN, build_review_open_modal, item_of
from handlers.slack.reviews import admitted, tell


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_REVIEW_OPEN)
    async def open_review(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        item_id = item_of(str((body.get("actions") or [{}])[0].get("value") or ""))
        if item_id is None or not await admitted(deps, body, item_id=item_id, what="review_open"):
            return
        try:
            view = await deps.db(core.get_review, deps.desk, item_id=item_id, now=deps.clock())
        except core.UnknownReview as exc:
            await tell(deps, body, str(exc))
            return
        if view.state != "waiting":
            await tell(deps, body, f"Review {item_id}: already decided / al besloten.")
            return
        modal = build_review_open_modal(view, channel=channel_of(body, deps), tz=deps.desk.tz)
        await deps.client.views_open(trigger_id=body["trigger_id"], view=modal)

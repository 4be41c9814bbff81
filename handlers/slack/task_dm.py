"""The Slack worker's part for a task owner's direct message: post it, or update it in place
after the task changed, rendered from the task as it is now."""

from __future__ import annotations

from typing import Any

from bot.task_view import remember_task_dm, task_view
from handlers.slack.deps import SlackDeps
from handlers.slack.task_blocks import build_task_dm

TASK_DM = "task_dm"


async def deliver_task_dm(deps: SlackDeps, payload: dict[str, Any]) -> str:
    """Post or update; returns why the row was dropped, or "" when sent."""
    user = str(payload.get("user") or "")
    task_id = int(payload.get("task") or 0)
    view = await deps.db(
        task_view, deps.desk, task_id=task_id, full_address=deps.show_body, now=deps.clock()
    )
    if view is None or not user:
        return "the task no longer exists"
    text, blocks = build_task_dm(view, user=user)
    if payload.get("ts") and payload.get("channel"):
        await deps.client.chat_update(
            channel=str(payload["channel"]), ts=str(payload["ts"]), text=text, blocks=blocks
        )
        return ""
    if view.assignee != f"slack:{user}":
        return "the task has moved to someone else"
    response = await deps.client.chat_postMessage(
        channel=user, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
    )
    await deps.db(
        remember_task_dm,
        deps.desk,
        task_id=task_id,
        channel=str(response["channel"]),
        ts=str(response["ts"]),
    )
    return ""

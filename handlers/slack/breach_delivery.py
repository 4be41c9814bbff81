"""Posting a new breach's message (checklist and buttons) from the Slack outbox worker; the
message is built from the breach as it is when it goes out."""

from __future__ import annotations

from typing import Any

from bot import breaches as core
from handlers.slack.breach_blocks import build_breach_message
from handlers.slack.deps import SlackDeps


def _summary(deps: SlackDeps, reference: str) -> dict[str, Any] | None:
    try:
        breach = core.get(deps.desk, reference=reference)
    except core.UnknownBreach:
        return None
    return core.summary(breach, tz=deps.desk.tz, now=deps.clock())


async def deliver_breach(deps: SlackDeps, payload: dict[str, Any]) -> str | None:
    """Post the message; the reason when it is dropped instead."""
    if not deps.channel:
        return "no DSR_SLACK_CHANNEL configured"
    summary = await deps.db(_summary, deps, str(payload.get("reference") or ""))
    if summary is None:
        return "the breach no longer exists"
    text, blocks = build_breach_message(summary)
    await deps.client.chat_postMessage(channel=deps.channel, text=text, blocks=blocks)
    return None

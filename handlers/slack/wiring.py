"""What `dsr serve` runs for Slack, and why not when it does not."""

from __future__ import annotations

import asyncio

from bot.desk import Desk
from handlers.runtime import utcnow
from handlers.service import Skipped, Subsystem


def slack_plan(desk: Desk) -> Subsystem | Skipped:
    settings = desk.settings
    if not settings.slack_bot_token:
        return Skipped("slack", "no SLACK_BOT_TOKEN")

    async def run(stop: asyncio.Event) -> None:
        from handlers.slack.app import run_slack  # Bolt is imported only when Slack runs

        await run_slack(desk, stop, clock=utcnow)

    return Subsystem("slack", run)

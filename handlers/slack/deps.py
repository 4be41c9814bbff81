"""What every Slack listener and the Slack worker need, built once in the wiring."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.desk import Desk
from handlers.slack.members import Membership

LIST_LIMIT = 20
HOME_LIMIT = 60


@dataclass
class SlackDeps:
    desk: Desk
    client: AsyncWebClient
    members: Membership
    clock: Callable[[], datetime]
    channel: str
    show_body: bool = False
    # Users who opened App Home in this process; their Home is re-published when cases change.
    home_viewers: set[str] = field(default_factory=set)
    # Set when a case changed here, so the worker sends the update without waiting.
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        self.wake.set()

"""What every Slack listener and the Slack worker need, built once in the wiring."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ParamSpec, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.desk import Desk
from handlers.slack.members import Membership

P = ParamSpec("P")
T = TypeVar("T")
LIST_LIMIT = 20
# Listeners' database work runs in threads; a bounded number at a time queues fairly in the
# event loop instead of a crowd of threads contending for SQLite's write lock.
DB_SLOTS = 4
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
    db_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DB_SLOTS))

    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run sync core/database code in a thread, at most DB_SLOTS at a time."""
        async with self.db_slots:
            return await asyncio.to_thread(fn, *args, **kwargs)

    def poke(self) -> None:
        self.wake.set()

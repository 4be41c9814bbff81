"""Who may act: members of the allowed user group, else of the desk's channel, cached."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger("dsr.slack.members")
Fetch = Callable[[], Awaitable[frozenset[str]]]


class Membership:
    """Members cached for `ttl` seconds; a user not in the cache triggers an early refresh
    (at most every `miss_refresh` seconds), so someone just added need not wait."""

    def __init__(
        self,
        *,
        fetch: Fetch,
        ttl: float = 300.0,
        miss_refresh: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch, self._ttl, self._miss_refresh, self._clock = fetch, ttl, miss_refresh, clock
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def allows(self, user_id: str) -> bool:
        age = self._clock() - self._fetched_at
        if self._members is None or age > self._ttl:
            await self._refresh()
        elif user_id not in self._members and age > self._miss_refresh:
            await self._refresh()
        return self._members is not None and user_id in self._members

    def forget(self) -> None:
        self._members = None

    async def _refresh(self) -> None:
        async with self._lock:
            if self._members is not None and self._clock() - self._fetched_at < 1.0:
                return  # another caller just refreshed
            try:
                self._members = await self._fetch()
                self._fetched_at = self._clock()
            except (SlackApiError, OSError, TimeoutError):
                # Keep the last known members rather than lock the desk out during an outage.
                logger.exception("slack: could not refresh who may act; keeping the last list")


def member_fetcher(client: AsyncWebClient, *, usergroup: str, channel: str) -> Fetch:
    async def fetch() -> frozenset[str]:
        if usergroup:
            response = await client.usergroups_users_list(usergroup=usergroup)
            return frozenset(response.get("users") or [])
        if not channel:
            return frozenset()
        members: set[str] = set()
        cursor: str | None = None
        while True:
            response = await client.conversations_members(
                channel=channel, limit=1000, cursor=cursor
            )
            members.update(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)

    return fetch

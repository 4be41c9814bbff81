"""Waking the delivery workers when mail or Slack posts are queued, instead of at their next look.

In one process the desk tells its workers after the commit that queued the rows
(`Desk.outbox_queued`). Between `dsr serve` instances on PostgreSQL the commit carries a
`NOTIFY dsr_outbox` (storage/outbox.py); `outbox_listener` holds a connection that LISTENs
on it and passes the news to this process's workers. The workers still look every few seconds,
so a lost notification delays a mail by that interval at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bot.desk import Desk
from handlers.service import Subsystem
from storage.outbox import NOTIFY_CHANNEL

logger = logging.getLogger("dsr.outbox")

ALL_CHANNELS = frozenset({"mail", "slack"})
LISTEN_POLL_SECONDS = 0.5
RECONNECT_SECONDS = 5.0


@contextlib.contextmanager
def wake_on_queue(
    desk: Desk, channel: str, event: asyncio.Event | None = None
) -> Iterator[asyncio.Event]:
    """An event of the running loop, set whenever a transaction of this desk (in any thread)
    commits rows queued for `channel`. Made with `event` when one is given."""
    wake = event if event is not None else asyncio.Event()
    loop = asyncio.get_running_loop()

    def poke(channels: frozenset[str]) -> None:
        if channel in channels:
            # A commit in a thread after the loop closed has no one left to wake.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    unsubscribe = desk.outbox_queued.subscribe(poke)
    try:
        yield wake
    finally:
        unsubscribe()


async def wait_for_any(*events: asyncio.Event, timeout: float) -> None:
    """Return when one of `events` is set, or after `timeout` seconds."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+psycopg://...`) as libpq takes it."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def outbox_listener(
    desk: Desk,
    *,
    ready: asyncio.Event | None = None,
    reconnect_seconds: float = RECONNECT_SECONDS,
) -> Subsystem:
    """`Subsystem("outbox-notify")` (PostgreSQL): LISTEN for rows queued by other instances
    and wake this process's workers. `ready` is set once the LISTEN is in place."""
    conninfo = libpq_url(desk.settings.database_url)

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await _listen(desk, conninfo, stop, ready)
            except (psycopg.Error, OSError) as exc:
                logger.warning(
                    "outbox-notify: connection lost (%s); listening again in %.0f s",
                    type(exc).__name__,
                    reconnect_seconds,
                )
                await wait_for_any(stop, timeout=reconnect_seconds)

    return Subsystem("outbox-notify", run)


async def _listen(
    desk: Desk, conninfo: str, stop: asyncio.Event, ready: asyncio.Event | None
) -> None:
    async with await psycopg.AsyncConnection.connect(
        conninfo, autocommit=True, connect_timeout=10
    ) as conn:
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
        logger.info("outbox-notify: listening on %s", NOTIFY_CHANNEL)
        if ready is not None:
            ready.set()
        # Rows queued while this connection was down were announced to no one.
        desk.outbox_queued.notify(ALL_CHANNELS)
        while not stop.is_set():
            async for note in conn.notifies(timeout=LISTEN_POLL_SECONDS):
                channels = announced(note.payload, own=desk.outbox_queued.origin)
                if channels:
                    desk.outbox_queued.notify(channels)


def announced(payload: str, *, own: str) -> frozenset[str]:
    """The channels a `dsr_outbox` notification announces (storage.outbox.notify_queued);
    none for this process's own, whose workers were told directly, or for a payload that is
    not ours."""
    origin, _, names = payload.partition(" ")
    if origin == own:
        return frozenset()
    return frozenset(names.split(",")) & ALL_CHANNELS

"""The IMAP poller as a `dsr serve` subsystem: every mail goes through process_message."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from datetime import datetime

from bot.desk import Desk
from bot.intake import process_message, record_oversize
from handlers.mail.imap import ImapPoller
from handlers.mail.imap_target import ImapTarget
from handlers.runtime import utcnow
from handlers.service import Subsystem

TAKEN = frozenset({"created", "threaded"})


def build_poller(
    desk: Desk, *, clock: Callable[[], datetime] = utcnow, ssl_context: ssl.SSLContext | None = None
) -> ImapPoller:
    """A poller for DSR_IMAP_URL whose every mail goes through process_message."""
    settings = desk.settings
    target = ImapTarget.from_url(settings.imap_url)

    async def deliver(raw: bytes, *, source: str) -> bool:
        result = await asyncio.to_thread(process_message, desk, raw, now=clock(), source=source)
        desk.monitor.count("dsr_mails_received", action=result.action, source="imap")
        return result.action in TAKEN

    async def on_oversize(uid: int, size: int) -> None:
        where = f"imap:{target.host}/{target.folder}/uid={uid}"
        await asyncio.to_thread(record_oversize, desk, size=size, where=where, now=clock())

    return ImapPoller(
        target=target,
        password=settings.imap_password.get_secret_value(),
        engine=desk.engine,
        deliver=deliver,
        on_oversize=on_oversize,
        max_message_bytes=settings.max_message_bytes,
        poll_seconds=settings.imap_poll_seconds,
        move_to=settings.imap_move_to,
        ssl_context=ssl_context,
        monitor=desk.monitor,
    )


def imap_poller(
    desk: Desk,
    *,
    clock: Callable[[], datetime] = utcnow,
    ssl_context: ssl.SSLContext | None = None,
) -> Subsystem:
    """`Subsystem("imap")`: IDLE or polling until `dsr serve` stops.

    Connection trouble is retried inside the poller; any other failure (the database, a
    refused plain-text login) ends the subsystem at once, so `dsr serve` reports it and stops
    instead of running on without mail intake.
    """
    poller = build_poller(desk, clock=clock, ssl_context=ssl_context)

    async def run(stop: asyncio.Event) -> None:
        task = asyncio.create_task(poller.run())
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            poller.stop()
            stopped.cancel()
        await task

    return Subsystem("imap", run)

"""IMAP poller: hands every new mail in one folder of the shared mailbox to intake, once.

The IMAP exchanges (imap-tools, `ImapSession`) block, so each runs in a worker thread
(`asyncio.to_thread`); the callbacks and the database cursor are driven from the event loop.
A mail reaches `deliver` before the cursor moves past it, and only mail the callback took is
moved, by UID, when `move_to` is set; nothing else is flagged or expunged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Engine

from bot.monitor import Monitor
from handlers.mail.imap_session import CONNECTION_ERRORS, ImapSession
from handlers.mail.imap_target import ImapTarget
from storage.engine import transaction
from storage.imap_cursor import get_cursor, save_cursor

logger = logging.getLogger(__name__)

IDLE_WINDOW_SECONDS = 1.0  # one IDLE command at most this long: stop() waits at most one


class Delivery(Protocol):
    async def __call__(self, raw: bytes, *, source: str) -> bool:
        """Store the mail durably (or quarantine it); True when taken (case created/threaded).

        Raise only for a temporary failure: the poller retries from this mail later.
        """
        ...


OnOversize = Callable[[int, int], Awaitable[None]]
Outcome = Literal["delivered", "skipped", "failed"]


@dataclass(frozen=True)
class _Round:
    delivered: int
    blocked: bool


class ImapPoller:
    def __init__(
        self,
        *,
        target: ImapTarget,
        password: str,
        engine: Engine,
        deliver: Delivery,
        on_oversize: OnOversize,
        max_message_bytes: int,
        poll_seconds: float,
        move_to: str = "",
        ssl_context: ssl.SSLContext | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        idle_window_seconds: float = IDLE_WINDOW_SECONDS,
        monitor: Monitor | None = None,
    ) -> None:
        self._target = target
        self._password = password
        self._engine = engine
        self._deliver = deliver
        self._on_oversize = on_oversize
        self._max_bytes = max_message_bytes
        self._poll_seconds = poll_seconds
        self._move_to = move_to
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._backoff = backoff_initial
        self._idle_window = idle_window_seconds
        self._monitor = monitor or Monitor()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    async def poll_once(self) -> int:
        """One round on a fresh connection; returns how many mails were delivered."""
        session = await asyncio.to_thread(self._open)
        try:
            return (await self._round(session)).delivered
        finally:
            await asyncio.to_thread(session.close)

    async def run(self) -> None:
        """Poll (IDLE where offered) until `stop()`; reconnect with capped backoff."""
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        while not self._stopping.is_set():
            try:
                await self._serve()
            except CONNECTION_ERRORS as exc:
                self._monitor.trouble("imap", f"connection failed ({type(exc).__qualname__})")
                logger.warning(
                    "imap: connection failed (%s); retrying in %.3g s",
                    type(exc).__qualname__,
                    self._backoff,
                )
                await self._pause(self._backoff)
                self._backoff = min(self._backoff * 2, self._backoff_max)

    def stop(self) -> None:
        """Ask `run()` to return; safe from any thread or a signal handler.

        A pause ends at once, an IDLE at the end of its window (`idle_window_seconds`).
        """
        self._stopping.set()
        if self._loop is not None and self._stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop_event.set)

    def _open(self) -> ImapSession:
        return ImapSession.open(
            self._target, password=self._password, ssl_context=self._ssl_context
        )

    async def _serve(self) -> None:
        session = await asyncio.to_thread(self._open)
        try:
            while not self._stopping.is_set():
                result = await self._round(session)
                self._backoff = self._backoff_initial
                self._monitor.mark("imap_poll")
                self._monitor.recovered("imap")
                if self._stopping.is_set():
                    return
                if result.blocked or "IDLE" not in session.capabilities:
                    await self._pause(self._poll_seconds)
                else:
                    await asyncio.to_thread(
                        session.idle,
                        seconds=self._poll_seconds,
                        window=self._idle_window,
                        stopping=self._stopping,
                    )
        finally:
            await asyncio.to_thread(session.close)

    async def _pause(self, seconds: float) -> None:
        if self._stop_event is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    async def _round(self, session: ImapSession) -> _Round:
        # Read-only unless we move mail: EXAMINE cannot change a flag (RFC 3501 6.3.2).
        folder, readonly = self._target.folder, not self._move_to
        uidvalidity = await asyncio.to_thread(session.select, folder, readonly=readonly)
        after = await asyncio.to_thread(self._start_after, uidvalidity)
        pending = await asyncio.to_thread(session.list_new, after)
        delivered = 0
        for uid, size in pending:
            if self._stopping.is_set():
                break
            outcome = await self._take(session, uidvalidity, uid, size)
            if outcome == "failed":
                return _Round(delivered=delivered, blocked=True)
            delivered += int(outcome == "delivered")
        if pending:
            logger.info("imap: round done: new=%d delivered=%d", len(pending), delivered)
        return _Round(delivered=delivered, blocked=False)

    async def _take(self, session: ImapSession, uidvalidity: int, uid: int, size: int) -> Outcome:
        """Hand one mail over, then advance the cursor past it (and move it if taken)."""
        oversize = size > self._max_bytes
        raw = None if oversize else await asyncio.to_thread(session.fetch, uid)
        taken = False
        try:
            if oversize:
                logger.warning("imap: uid=%d is %d bytes, over the limit; not fetched", uid, size)
                await self._on_oversize(uid, size)
            elif raw is not None:
                source = f"imap:{self._target.folder}:{uidvalidity}:{uid}"
                taken = await self._deliver(raw, source=source)
        except Exception as exc:
            logger.warning(
                "imap: handing over uid=%d failed (%s); will retry from it",
                uid,
                type(exc).__name__,
            )
            return "failed"
        await asyncio.to_thread(self._save, uidvalidity, uid)
        if raw is None:
            return "skipped"
        if taken and self._move_to:
            await asyncio.to_thread(session.move, uid, self._move_to)
        return "delivered"

    def _start_after(self, uidvalidity: int) -> int:
        """The last UID handled in this folder; 0 on first run or after a UIDVALIDITY change."""
        key = self._target.mailbox_key
        with transaction(self._engine) as db:
            cursor = get_cursor(session=db, mailbox=key)
            if cursor is not None and cursor.uidvalidity == uidvalidity:
                return cursor.last_uid
            if cursor is not None:
                logger.warning(
                    "imap: UIDVALIDITY changed from %d to %d; rescanning the folder",
                    cursor.uidvalidity,
                    uidvalidity,
                )
                save_cursor(session=db, mailbox=key, uidvalidity=uidvalidity, last_uid=0)
            return 0

    def _save(self, uidvalidity: int, uid: int) -> None:
        key = self._target.mailbox_key
        with transaction(self._engine) as db:
            save_cursor(session=db, mailbox=key, uidvalidity=uidvalidity, last_uid=uid)

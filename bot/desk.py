"""The desk: everything the core services need, built once at the edge and passed in."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.calendar_nl import DutchCalendar
from bot.monitor import Monitor
from bot.settings import Settings
from storage.engine import engine_sealer, is_postgres, reading, transaction
from storage.outbox import QUEUED_CHANNELS, notify_queued
from storage.sealing import Sealer

logger = logging.getLogger("dsr.desk")

Listener = Callable[[frozenset[str]], None]


class OutboxSignal:
    """Tells the delivery workers of this process that rows were queued, as soon as the
    transaction that queued them has committed, so that they need not wait for their next
    look. Listeners get the outbox channels ("mail", "slack") and are called in the thread
    that committed: they only pass the news on (e.g. `loop.call_soon_threadsafe`)."""

    def __init__(self) -> None:
        # Names this process in the PostgreSQL notifications it sends, so that its own
        # listener skips them: its workers were told already, directly.
        self.origin = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add `listener`; returns the function that removes it again."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def notify(self, channels: frozenset[str]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(channels)
            except Exception:
                # The commit stands; a worker that missed the news still looks on its interval.
                logger.exception("outbox: a wake-up listener failed")


@dataclass(frozen=True)
class Desk:
    settings: Settings
    engine: Engine
    cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    outbox_queued: OutboxSignal = field(default_factory=OutboxSignal, compare=False, repr=False)
    monitor: Monitor = field(default_factory=Monitor, compare=False, repr=False)

    @property
    def sealer(self) -> Sealer:
        """The engine's sealer (sealed columns use it); also for keyed lookup hashes."""
        return engine_sealer(self.engine)

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    @property
    def calendar(self) -> DutchCalendar:
        return calendar_for(self.settings.holiday_profile)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work (storage.engine.transaction). When it queued outbox rows, the
        delivery workers are told after the commit: in this process through `outbox_queued`,
        other instances on PostgreSQL through a NOTIFY sent with the commit."""
        with transaction(self.engine) as session:
            yield session
            queued = frozenset(session.info.pop(QUEUED_CHANNELS, ()))
            if queued and is_postgres(self.engine):
                notify_queued(session=session, channels=queued, origin=self.outbox_queued.origin)
        if queued:
            self.outbox_queued.notify(queued)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads (storage.engine.reading): it never waits for a
        writer, and a write in it is refused."""
        with reading(self.engine) as session:
            yield session


_CALENDARS: dict[str, DutchCalendar] = {}


def calendar_for(profile: str) -> DutchCalendar:
    if profile not in _CALENDARS:
        _CALENDARS[profile] = DutchCalendar("atw" if profile == "atw" else "strict")
    return _CALENDARS[profile]

"""The desk: everything the core services need, built once at the edge and passed in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.calendar_nl import DutchCalendar
from bot.settings import Settings
from storage.engine import engine_sealer, transaction
from storage.sealing import Sealer


@dataclass(frozen=True)
class Desk:
    settings: Settings
    engine: Engine
    cache: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

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
        with transaction(self.engine) as session:
            yield session


_CALENDARS: dict[str, DutchCalendar] = {}


def calendar_for(profile: str) -> DutchCalendar:
    if profile not in _CALENDARS:
        _CALENDARS[profile] = DutchCalendar("atw" if profile == "atw" else "strict")
    return _CALENDARS[profile]

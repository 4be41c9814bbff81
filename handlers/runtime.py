"""Wiring: settings, engine and desk are built here, once, and passed in."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.desk import Desk
from bot.settings import Settings
from storage.engine import make_engine
from storage.migrate import is_up_to_date, upgrade

logger = logging.getLogger("dsr")


class StartupError(Exception):
    """The service cannot start as configured; the message says what to do."""


def utcnow() -> datetime:
    """The one real clock; everything below the edges takes `now` as an argument."""
    return datetime.now(UTC)


def build_desk(settings: Settings, *, migrate: bool = True) -> Desk:
    """Engine and desk; the embedded SQLite default upgrades itself, PostgreSQL only on request."""
    engine = make_engine(settings.database_url)
    if migrate:
        if settings.is_sqlite or settings.db_auto_upgrade:
            upgrade(engine)
        elif not is_up_to_date(engine):
            raise StartupError(
                "the database is not at the latest migration; run `dsr db upgrade` "
                "(or set DSR_DB_AUTO_UPGRADE=true)"
            )
    return Desk(settings=settings, engine=engine)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )

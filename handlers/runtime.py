"""Wiring: settings, engine and desk are built here, once, and passed in."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.desk import Desk
from bot.keys import check_key, key_old_audit_trail, load_audit_chain, load_sealer
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
    sealer = load_sealer(settings)
    engine = make_engine(settings.database_url, sealer=sealer, audit=load_audit_chain(settings))
    if migrate:
        current = is_up_to_date(engine)
        if not current and (settings.is_sqlite or settings.db_auto_upgrade):
            upgrade(engine)
        elif not current:
            raise StartupError(
                "the database is not at the latest migration; run `dsr db upgrade` "
                "(or set DSR_DB_AUTO_UPGRADE=true)"
            )
        check_key(engine, sealer)
        key_old_audit_trail(engine)
    return Desk(settings=settings, engine=engine)


@contextmanager
def single_instance(settings: Settings) -> Iterator[None]:
    """On SQLite one `dsr serve` per database file; a second one stops with a clear message.

    PostgreSQL needs no lock: instances share work through row claims and advisory locks.
    """
    if not settings.is_sqlite:
        yield
        return
    database = make_url(settings.database_url).database or "dsr.db"
    lock_path = Path(f"{database}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                f"another dsr serve already runs on {database}; SQLite supports one instance. "
                "Use PostgreSQL (DSR_DATABASE_URL) to run more than one"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def configure_logging(settings: Settings) -> None:
    """DSR_LOG_FORMAT and DSR_LOG_LEVEL; see handlers/logsetup.py."""
    from handlers.logsetup import configure_logging as configure

    configure(settings)

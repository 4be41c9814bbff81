"""Engine and session setup for SQLite (WAL, busy timeout) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from storage.sealing import PlainSealer, Sealer

SQLITE_BUSY_TIMEOUT_MS = 10_000
_BEGIN = "BEGIN IMMEDIATE"


def make_engine(url: str, *, sealer: Sealer | None = None, pool_size: int = 5) -> Engine:
    """Build the one engine of a process; SQLite gets WAL and serialised write transactions.

    `sealer` seals the personal columns (storage/types.py); the service passes a FernetSealer,
    tests of other things get the PlainSealer.
    """
    engine = _engine(url, pool_size=pool_size)
    engine.dialect.dsr_sealer = sealer or PlainSealer()  # type: ignore[attr-defined]
    return engine


def engine_sealer(engine: Engine) -> Sealer:
    sealer: Sealer = engine.dialect.dsr_sealer  # type: ignore[attr-defined]
    return sealer


def _engine(url: str, *, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below applies.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit is on disk when it returns. The listener answers `250` and the pipe exits 0
    # after the commit, and the sending server then deletes its copy; under NORMAL a power cut
    # or an OS crash could still take back the last commits in WAL mode, that is lose mail.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # A deferred transaction that later writes can fail with SQLITE_BUSY without waiting;
    # taking the write lock up front makes writers queue on the busy timeout instead. Sent to
    # the driver itself (once per transaction, so once per mail in intake); a failure is raised
    # as SQLAlchemy's, like that of any statement.
    try:
        connection.connection.driver_connection.execute(_BEGIN)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(_BEGIN, (), exc, sqlite3.Error) from exc


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

"""Engine and session setup for SQLite (WAL, busy timeout) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session

from storage.sealing import PlainSealer, Sealer

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option of the connection of a read transaction (see `reading`).
READ_ONLY = "dsr_read_only"
# The audit chain key of engines built without one (tests of other things); the service always
# passes its own key (bot/keys.py).
UNKEYED = b"dsr-audit-chain-unkeyed"


@dataclass(frozen=True)
class AuditChain:
    """How the audit trail of an engine is chained: the HMAC key (kept outside the database)
    and the file that records the chain's head after each commit that extends it."""

    key: bytes = UNKEYED
    head_file: Path | None = None


class DeskSession(Session):
    """The sessions of this application; the audit trail's commit hook listens to these only."""


def make_engine(
    url: str,
    *,
    sealer: Sealer | None = None,
    audit: AuditChain | None = None,
    pool_size: int = 5,
) -> Engine:
    """Build the one engine of a process; SQLite gets WAL, durable commits and private files.

    `sealer` seals the personal columns (storage/types.py); the service passes a FernetSealer,
    tests of other things get the PlainSealer. `audit` keys the audit chain (storage/audit.py).
    """
    engine = _engine(url, pool_size=pool_size)
    engine.dialect.dsr_sealer = sealer or PlainSealer()  # type: ignore[attr-defined]
    engine.dialect.dsr_audit = audit or AuditChain()  # type: ignore[attr-defined]
    return engine


def engine_sealer(engine: Engine) -> Sealer:
    sealer: Sealer = engine.dialect.dsr_sealer  # type: ignore[attr-defined]
    return sealer


def engine_audit(engine: Engine | Connection) -> AuditChain:
    chain: AuditChain = engine.dialect.dsr_audit  # type: ignore[attr-defined]
    return chain


def _engine(url: str, *, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_database_files(Path(database))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def private_database_files(database: Path) -> None:
    """Create the SQLite file 0600 in a 0700 folder before SQLite opens it, and take the group
    and others' bits off an existing file and its -wal, -shm and -journal. SQLite creates the
    -wal and -shm files with the permissions of the database file, so they follow."""
    if not database.parent.exists():
        database.parent.mkdir(parents=True, mode=0o700)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{database}{suffix}")
        try:
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                path.chmod(mode & 0o700)
        except FileNotFoundError:
            continue


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented pysqlite recipe: the driver opens no transactions of its own, the
    # `begin` listener below emits BEGIN, so a write transaction can take the write lock first.
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


def _sqlite_on_begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes gets SQLITE_BUSY at once (no wait on
    # the busy timeout) when another writer committed in between; a write transaction takes the
    # write lock up front instead and queues on the busy timeout. A read transaction begins
    # deferred and reads its WAL snapshot without waiting for any writer.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT, which offers ON CONFLICT DO NOTHING/UPDATE (PostgreSQL, SQLite):
    the one way the exactly-once rows (reminders, breach alerts, inbound mail, the IMAP
    cursor) are written."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work that may write: commits on success, rolls back on any error. On SQLite
    it holds the write lock from its start."""
    with DeskSession(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads: it never waits for the write lock (SQLite WAL readers
    see the last commit) and ends by closing the session, which rolls the transaction back and
    leaves the loaded objects readable. A write in it is refused."""
    with DeskSession(engine, expire_on_commit=False, info={READ_ONLY: True}) as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


@event.listens_for(DeskSession, "do_orm_execute")
def _refuse_writes_when_reading(state: Any) -> None:
    if state.session.info.get(READ_ONLY) and (
        state.is_insert or state.is_update or state.is_delete
    ):
        raise ReadOnlyTransaction("this transaction only reads; write in desk.transaction()")


@event.listens_for(DeskSession, "before_flush")
def _refuse_flush_when_reading(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyTransaction("this transaction only reads; write in desk.transaction()")


class ReadOnlyTransaction(RuntimeError):
    """A write was attempted in a read transaction (a programming error)."""

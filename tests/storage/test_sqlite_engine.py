import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from storage.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    ReadOnlyTransaction,
    make_engine,
    reading,
    transaction,
)
from storage.migrate import upgrade
from storage.models import AppSecret


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        # FULL (2): a commit is durable before the mail is acknowledged to the sender.
        assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 2
    engine.dispose()


def test_the_database_its_wal_and_shm_and_a_new_folder_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # a usual umask: files 0644, folders 0755 unless we say
    try:
        folder = tmp_path / "var"
        engine = make_engine(f"sqlite:///{folder / 'dsr.db'}")
        upgrade(engine)
        with transaction(engine) as session:
            session.execute(text("INSERT INTO app_secret (name, value) VALUES ('a', 'b')"))
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        engine.dispose()
    finally:
        os.umask(previous)
    assert {"dsr.db", "dsr.db-wal", "dsr.db-shm"} <= set(files)
    assert all(mode == 0o600 for mode in files.values()), files
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_existing_database_readable_by_others_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "dsr.db"
    make_engine(f"sqlite:///{database}").dispose()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_a_read_does_not_wait_for_a_writer(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    started = time.monotonic()
    with transaction(engine) as writer:
        writer.execute(text("INSERT INTO app_secret (name, value) VALUES ('a', 'b')"))
        # The writer holds the write lock and has not committed: a read sees the last commit.
        with reading(engine) as reader:
            found = reader.execute(text("SELECT count(*) FROM app_secret")).scalar_one()
    assert found == 0
    assert time.monotonic() - started < SQLITE_BUSY_TIMEOUT_MS / 1000 / 2
    engine.dispose()


def test_a_write_transaction_holds_the_write_lock_from_its_start(
    sqlite_url: str, tmp_path: Path
) -> None:
    """So a writer that reads first queues on the busy timeout instead of failing at its first
    write when another writer committed in between."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    other = sqlite3.connect(tmp_path / "dsr.db", timeout=0, isolation_level=None)
    with transaction(engine) as session:
        session.execute(text("SELECT count(*) FROM app_secret"))  # only a read so far
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    engine.dispose()


def test_a_write_in_a_read_transaction_is_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with pytest.raises(ReadOnlyTransaction), reading(engine) as session:
        session.add(AppSecret(name="a", value="b"))
        session.flush()
    with pytest.raises(ReadOnlyTransaction), reading(engine) as session:
        session.execute(insert(AppSecret).values(name="a", value="b"))
    engine.dispose()

"""Shared fixtures: every storage test runs on a fresh SQLite file and on a private
PostgreSQL schema (127.0.0.1:5432, database `test`), each test isolated."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from bot.desk import Desk
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.sealing import generate_key
from tests.factories import make_settings

POSTGRES_URL = os.environ.get(
    "DSR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


TEST_KEY = generate_key()


@pytest.fixture(autouse=True)
def _encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in tests seal with a test key (PostgreSQL requires one)."""
    monkeypatch.setenv("DSR_ENCRYPTION_KEY", TEST_KEY)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@functools.cache
def postgres_available() -> bool:
    try:
        with psycopg.connect(_libpq(POSTGRES_URL), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def pytest_report_header() -> str:
    if postgres_available():
        return f"postgresql: {POSTGRES_URL}"
    return f"postgresql: NOT reachable at {POSTGRES_URL}; running the SQLite half only"


def require_postgres() -> None:
    if postgres_available():
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (CI=true: no silent skip)")
    pytest.skip("PostgreSQL not reachable; SQLite half only")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private schema in the test database, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/dsr.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/dsr.db"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def desk(engine: Engine, db_url: str, tmp_path: object) -> Desk:
    return Desk(settings=make_settings(db_url, tmp_path), engine=engine)

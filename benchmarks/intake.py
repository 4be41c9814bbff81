"""Intake throughput: realistic mails through `process_message` on SQLite and PostgreSQL,
against the bare limit measured in the same run (stdlib parse + one plain sqlite3 insert and
commit per mail). The desk is built and warmed up as `dsr serve` does it (handlers/cli/serve.py:
default settings, personal columns sealed with Fernet, model and templates loaded at start).

    uv run python benchmarks/intake.py [--count 2000] [--profile sqlite|postgresql]

Targets: at least 150 mails/s on SQLite (durable commits) and 100 mails/s on PostgreSQL. The
share of the bare limit is printed as a figure to follow, not a target: the bare limit only
parses and stores, while intake also recognises, threads, seals, audits and queues the reply.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bot.desk import Desk  # noqa: E402
from bot.intake import process_message, warm_up  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.logsetup import configure_logging  # noqa: E402
from handlers.runtime import build_desk  # noqa: E402
from storage.sealing import generate_key  # noqa: E402

SHAPES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "intake"
POSTGRES_URL = os.environ.get(
    "DSR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SQLITE_TARGET, POSTGRES_TARGET = 150, 100  # mails/s
_MESSAGE_ID = re.compile(rb"^Message-I[Dd]:[^\n]*\n", re.MULTILINE | re.IGNORECASE)
_SENDER_AT = re.compile(rb"^((?:From|Reply-To|E-?mail):[^\n]*?)@", re.MULTILINE | re.IGNORECASE)


def corpus(count: int) -> list[bytes]:
    """`count` mails in the shapes of the intake fixtures, each with its own Message-ID and
    sender (requests, replies, auto-replies, bounces, lists, HTML, charsets, attachments).

    The sender varies in the local part itself: a `+tag` is dropped when addresses are matched,
    which made every mail of a shape one person, whose acknowledgements were held back after
    the fifth of the day (DSR_MAX_AUTO_REPLIES_PER_DAY), so most requests skipped the reply."""
    shapes = [p.read_bytes() for p in sorted(SHAPES.glob("*.eml"))]
    mails = []
    for n in range(count):
        raw = _MESSAGE_ID.sub(b"", shapes[n % len(shapes)])
        raw = _SENDER_AT.sub(rb"\1.b%d@" % n, raw)
        mails.append(b"Message-ID: <bench-%d@bench.example>\n" % n + raw)
    return mails


def settings_for(url: str, work: Path, *, key: str = "") -> Settings:
    """The defaults `dsr serve` runs with; only the paths (and PostgreSQL's key) differ."""
    return Settings(
        _env_file=None,
        database_url=url,
        outbox_dir=str(work / "outbox"),
        var_dir=str(work / "var"),
        encryption_key=key,
        db_auto_upgrade=True,
    )


def run_intake(desk: Desk, mails: list[bytes]) -> float:
    started = time.perf_counter()
    for n, raw in enumerate(mails):
        process_message(desk, raw, now=T0 + timedelta(seconds=n), source="bench")
    return len(mails) / (time.perf_counter() - started)


def bare_limit(mails: list[bytes], work: Path) -> float:
    """Parse with the stdlib and insert one row per mail, committing each (WAL and a durable
    commit, as ours: storage/engine.py)."""
    conn = sqlite3.connect(work / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE mail (id INTEGER PRIMARY KEY, mid TEXT, subj TEXT, raw BLOB)")
    parser = BytesParser(policy=policy.default)
    started = time.perf_counter()
    for raw in mails:
        msg = parser.parsebytes(raw)
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO mail (mid, subj, raw) VALUES (?, ?, ?)",
            (str(msg["Message-ID"]), str(msg["Subject"]), raw),
        )
        conn.execute("COMMIT")
    rate = len(mails) / (time.perf_counter() - started)
    conn.close()
    return rate


@contextmanager
def sqlite_desk(work: Path) -> Iterator[Desk]:
    # Built as `dsr serve` builds it (handlers/runtime.py): Fernet sealer with the key generated
    # into the var folder, migrations, key check.
    desk = build_desk(settings_for(f"sqlite:///{work}/dsr.db", work))
    warm_up(desk, now=T0)
    yield desk
    desk.engine.dispose()


@contextmanager
def postgres_desk(work: Path) -> Iterator[Desk | None]:
    libpq = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"postgresql: not reachable at {POSTGRES_URL} ({type(exc).__name__}); skipped")
        yield None
        return
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    desk = None
    try:
        desk = build_desk(settings_for(url, work, key=generate_key()))
        warm_up(desk, now=T0)
        yield desk
    finally:
        if desk is not None:
            desk.engine.dispose()
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def profiled(measure: Callable[[], float]) -> float:
    profiler = cProfile.Profile()
    rate = profiler.runcall(measure)
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(35)
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--profile", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    mails = corpus(args.count)
    size = sum(len(m) for m in mails) // len(mails)
    print(f"{len(mails)} mails, {size} bytes on average, {len(set(mails))} distinct")
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as log:
        work = Path(tmp)
        # Serve's logging (level, format, address masking), written to nowhere.
        configure_logging(settings_for(f"sqlite:///{work}/dsr.db", work), stream=log)
        bare = bare_limit(mails, work)
        with sqlite_desk(work) as desk:
            measure = partial(run_intake, desk, mails)
            lite = profiled(measure) if args.profile == "sqlite" else measure()
        with postgres_desk(work) as pg:
            pg_rate = None
            if pg is not None:
                measure = partial(run_intake, pg, mails)
                pg_rate = profiled(measure) if args.profile == "postgresql" else measure()
    print(f"bare limit (stdlib parse + sqlite3 insert, commit per mail): {bare:8.0f} mails/s")
    print(f"process_message on SQLite:                                {lite:8.0f} mails/s")
    if pg_rate is not None:
        print(f"process_message on PostgreSQL:                            {pg_rate:8.0f} mails/s")
    print(f"SQLite / bare limit: {lite / bare:.1%} (a figure, not a target)")
    met = lite >= SQLITE_TARGET and (pg_rate is None or pg_rate >= POSTGRES_TARGET)
    print(
        f"targets: SQLite >= {SQLITE_TARGET} mails/s, PostgreSQL >= {POSTGRES_TARGET} mails/s: "
        + ("met" if met else "MISSED")
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

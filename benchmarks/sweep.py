"""Reminder sweep over many cases generated directly in the database (bulk insert).

    uv run python benchmarks/sweep.py [--cases 1000000] [--due N] [--db sqlite postgresql]
        [--without-index] [--explain]

Per database: a sweep when nothing is in the window, a sweep that queues N reminders (1% of
the cases by default, Slack on), the same sweep again (all recorded: nothing to queue), and
the digest. Peak Python memory (tracemalloc) of the first two is measured in separate
dry-run/no-op sweeps so that tracing does not slow the timed ones. Targets: under 1 s with
nothing due, under 5 s with 10,000 reminders, memory flat in the number of cases.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Engine, text

from bot.desk import Desk
from bot.digest import build_digest
from bot.states import CLOSED
from bot.sweep import run_sweep
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.reminders import deadline_statement
from tests.factories import make_settings

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 25, 8, 0, tzinfo=AMS)  # Wednesday, before the digest hour
TODAY = NOW.date()
SLACK = {"slack_bot_token": "xoxb-bench", "slack_app_token": "xapp-bench"}
POSTGRES_URL = os.environ.get(
    "DSR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Created by migration 0004; --without-index drops it to show what it is worth.
DROP_INDEX = "DROP INDEX ix_dsr_case_active_effective_due"
COLUMNS = (
    "reference", "state", "category", "also", "confidence", "needs_triage", "evidence",
    "language", "requester", "requester_key", "received_at", "due", "verified_at", "assignee",
    "flags", "closed_at", "created_at", "updated_at", "version",
)  # fmt: skip
# Due dates that put a case on a ladder step today (Wed 25 March 2026).
STEP_DUES = (
    TODAY + timedelta(days=7),  # t-7
    date(2026, 3, 30),  # t-3wd (Mon 30 March: 3 working days after Wed 25)
    TODAY,  # due
    TODAY - timedelta(days=6),  # overdue
)


def rows(count: int, due_count: int, requester: str) -> Iterator[tuple[Any, ...]]:
    """`due_count` cases spread evenly over the ids are due for a reminder today; of the
    rest 70% are closed (past due dates), 30% active with due dates beyond the window."""
    every = max(count // max(due_count, 1), 1)
    stamp = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for n in range(count):
        if n % every == 0 and n // every < due_count:
            state, due, closed = "open", STEP_DUES[(n // every) % 4], None
        elif n % 10 < 7:
            state, due, closed = "done", TODAY - timedelta(days=30 + n % 900), stamp
        else:
            state, due, closed = "open", TODAY + timedelta(days=8 + n % 23), None
        yield (
            f"DSR-B-{n:08d}", state, "access", "[]", 1.0, False, "[]", "nl", requester, "",
            stamp, due, stamp, "slack:U1", "[]", closed, stamp, stamp, 1,
        )  # fmt: skip


def load_sqlite(engine: Engine, data: Iterator[tuple[Any, ...]]) -> None:
    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return v.isoformat() if isinstance(v, date) else v

    placeholders = ", ".join("?" for _ in COLUMNS)
    statement = f"INSERT INTO dsr_case ({', '.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        cursor.executemany(statement, (tuple(value(v) for v in row) for row in data))
        cursor.execute("COMMIT")
    finally:
        raw.close()


def load_postgres(engine: Engine, data: Iterator[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY dsr_case ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def peak_mib(call: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def explain(engine: Engine) -> None:
    statement = deadline_statement(
        closed=CLOSED, horizon=date(2026, 4, 1), after=(TODAY, 0), limit=500
    )
    query = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        for line in connection.execute(text(prefix + query)):
            print("   ", " ".join(str(part) for part in line))


def bench(url: str, args: argparse.Namespace, workdir: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    desk = Desk(settings=make_settings(url, workdir, **SLACK), engine=engine)
    requester = b"someone@example.nl".decode()
    loader = load_sqlite if engine.dialect.name == "sqlite" else load_postgres
    seconds, _ = timed(lambda: loader(engine, rows(args.cases, args.due, requester)))
    if args.without_index:
        with engine.begin() as connection:
            connection.execute(text(DROP_INDEX))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    name = engine.dialect.name
    print(f"{name}: {args.cases:,} cases ({args.due:,} due today) loaded in {seconds:.1f} s")
    if args.explain:
        explain(engine)
    idle = NOW - timedelta(days=30)
    for year in (TODAY.year - 1, TODAY.year, TODAY.year + 1):  # warm the holiday cache
        desk.calendar.holidays_in(year)
    t_idle, report = timed(lambda: run_sweep(desk, now=idle))
    print(f"  nothing due:        {t_idle:6.3f} s  queued {len(report.reminders)}")
    m_idle = peak_mib(lambda: run_sweep(desk, now=idle))
    m_dry = peak_mib(lambda: run_sweep(desk, now=NOW, dry_run=True))
    t_due, report = timed(lambda: run_sweep(desk, now=NOW))
    print(f"  {len(report.reminders):,} to queue: {t_due:9.3f} s")
    t_again, again = timed(lambda: run_sweep(desk, now=NOW + timedelta(minutes=5)))
    print(f"  all recorded:       {t_again:6.3f} s  queued {len(again.reminders)}")
    t_digest, _ = timed(lambda: build_digest(desk, NOW))
    print(f"  digest:             {t_digest:6.3f} s")
    print(f"  peak memory: nothing due {m_idle:.1f} MiB, dry run with due {m_dry:.1f} MiB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, help="cases due for a reminder (default 1%%)")
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--without-index", action="store_true", help="skip the proposed index")
    parser.add_argument("--explain", action="store_true", help="print the candidate query plan")
    args = parser.parse_args()
    args.due = args.cases // 100 if args.due is None else args.due
    with tempfile.TemporaryDirectory() as workdir:
        if "sqlite" in args.db:
            bench(f"sqlite:///{workdir}/bench.db", args, workdir)
        if "postgresql" in args.db:
            with_schema(lambda url: bench(url, args, workdir))


def with_schema(run: Callable[[str], None]) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    libpq = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in POSTGRES_URL else "?"
        run(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()

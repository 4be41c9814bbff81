"""Time to Slack's HTTP answer for `/dsr list overdue` with 100,000 cases in the database.

Runs the real app (signed requests through /slack/events) against the local Slack stub;
prints p50/p99 of the time to the HTTP response (target p99 < 300 ms) and how long the
ephemeral answers took to arrive. `--database-url postgresql+psycopg://...` for PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import delete, insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.desk import Desk  # noqa: E402
from handlers.slack.app import build_app, build_deps  # noqa: E402
from handlers.slack.http import start_http  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import AuditEvent, Case, OutboxItem, SlackReceipt  # noqa: E402
from tests.factories import make_settings  # noqa: E402
from tests.handlers.slack.harness import sign  # noqa: E402
from tests.slack_stub import SlackStub  # noqa: E402

REQUESTS, USER = 1_000, "UDESK"
STATES = ("open", "open", "awaiting_identity", "needs_triage", "extended", "done")


def fill(desk: Desk, count: int) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(days=400)
    rows = []
    for n in range(count):
        received = start + timedelta(minutes=6 * n)
        rows.append(
            {
                "reference": f"DSR-{received.year}-{n + 1:06d}",
                "state": STATES[n % len(STATES)],
                "category": "access",
                "also": [],
                "evidence": [],
                "flags": [],
                "language": "nl" if n % 3 else "en",
                "requester": f"person{n}@example.nl",
                "received_at": received,
                "due": (received + timedelta(days=31)).date(),
                "created_at": received,
                "updated_at": received,
            }
        )
    with desk.transaction() as session:
        for table in (SlackReceipt, OutboxItem, AuditEvent, Case):
            session.exec(delete(table))  # type: ignore[call-overload]
        for i in range(0, len(rows), 2000):
            session.exec(insert(Case).values(rows[i : i + 2000]))  # type: ignore[call-overload]


async def run(database_url: str, tmp: str, cases: int, requests: int, concurrency: int) -> None:
    stub = SlackStub(members={USER})
    await stub.start()
    settings = make_settings(
        database_url,
        tmp,
        slack_bot_token="xoxb-bench",  # noqa: S106
        slack_signing_secret="bench-secret",  # noqa: S106
        slack_api_url=stub.api_url,
        slack_channel="C0DESK",
    )
    engine = make_engine(database_url, pool_size=20)
    upgrade(engine)
    desk = Desk(settings=settings, engine=engine)
    began = time.perf_counter()
    fill(desk, cases)
    print(f"{cases} cases inserted in {time.perf_counter() - began:.1f} s ({engine.dialect.name})")
    deps = build_deps(desk, clock=lambda: datetime.now(UTC))
    runner, port = await start_http(build_app(deps), host="127.0.0.1", port=0)
    url = f"http://127.0.0.1:{port}/slack/events"
    timings: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = urlencode(
                {
                    "team_id": "T1",
                    "channel_id": "C0DESK",
                    "user_id": USER,
                    "command": "/dsr",
                    "text": "list overdue",
                    "response_url": stub.response_url(f"r{n}"),
                    "trigger_id": f"bench.{n}",
                }
            )
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **sign(body, secret="bench-secret"),  # noqa: S106
            }
            sent = time.perf_counter()
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            timings.append((time.perf_counter() - sent) * 1000)

    began = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    acked = time.perf_counter() - began
    await stub.wait_for(lambda s: len(s.responses) >= requests, timeout=600)
    answered = time.perf_counter() - began
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        f"{requests} signed `/dsr list overdue`, concurrency {concurrency}: "
        f"HTTP answer p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {timings[-1]:.1f} ms "
        f"(target p99 < 300 ms: {'met' if p99 < 300 else 'MISSED'})"
    )
    print(
        f"all acks in {acked:.1f} s; all ephemeral answers (the list itself) in {answered:.1f} s "
        f"({answered / requests * 1000:.1f} ms per list)"
    )
    await runner.cleanup()
    await stub.stop()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        asyncio.run(run(url, tmp, args.cases, args.requests, args.concurrency))


if __name__ == "__main__":
    main()

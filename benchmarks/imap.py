"""IMAP poller against a private Dovecot on loopback (tests/dovecot.py): one round over a
backlog, how soon IDLE hands a new mail over, and how soon `stop()` ends an IDLE.

    uv run python benchmarks/imap.py [--count 500] [--samples 20] [--module handlers.mail.imap]
        [--db-dir /dev/shm]

`--module` names the module that provides `ImapPoller` and `ImapTarget`, so another version
of the poller can be measured the same way. Delivery is a no-op: this measures the IMAP side
and the cursor's commit per mail (on a tmpfs `--db-dir` that commit costs no disk flush).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from storage.engine import make_engine  # noqa: E402
from tests.dovecot import Dovecot, running_dovecot  # noqa: E402

REALMAIL = Path("/work/shared/realmail/imap_tools")


def sample_mails(count: int) -> list[bytes]:
    """Real-world mails from the imap_tools corpus, each given its own Message-ID."""
    corpus = sorted(REALMAIL.rglob("*.eml"))
    raws = [p.read_bytes() for p in corpus] or [b"Subject: x\r\n\r\nbody\r\n"]
    return [b"Message-ID: <bench%d@example.nl>\r\n" % n + raws[n % len(raws)] for n in range(count)]


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.changed = asyncio.Event()

    async def __call__(self, raw: bytes, *, source: str) -> bool:
        self.count += 1
        self.changed.set()
        return False

    async def on_oversize(self, uid: int, size: int) -> None:
        return None

    async def wait_for(self, count: int) -> None:
        while self.count < count:
            self.changed.clear()
            await self.changed.wait()


DB_DIR: str | None = None


@contextmanager
def fresh_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(dir=DB_DIR) as tmp:
        engine = make_engine(f"sqlite:///{tmp}/dsr.db")
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()


def poller(module: ModuleType, dovecot: Dovecot, engine: Engine, sink: Sink) -> Any:
    return module.ImapPoller(
        target=module.ImapTarget.from_url(dovecot.url()),
        password=dovecot.password,
        engine=engine,
        deliver=sink,
        on_oversize=sink.on_oversize,
        max_message_bytes=25_000_000,
        poll_seconds=600.0,
        ssl_context=dovecot.ssl_context(),
    )


async def backlog(module: ModuleType, dovecot: Dovecot, count: int) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds for one round over `count` new mails."""
    for raw in sample_mails(count):
        dovecot.append(raw)
    with fresh_engine() as engine:
        sink = Sink()
        started, cpu = time.perf_counter(), time.process_time()
        delivered = await poller(module, dovecot, engine, sink).poll_once()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert delivered == count, delivered
    return elapsed, cpu


async def idle_and_stop(
    module: ModuleType, dovecot: Dovecot, samples: int
) -> tuple[list[float], list[float]]:
    """Seconds from APPEND to delivery through IDLE, and from stop() to run() returning."""
    handover: list[float] = []
    stops: list[float] = []
    mails = sample_mails(samples + 1)
    with fresh_engine() as engine:
        for n in range(samples):
            sink = Sink()
            running = poller(module, dovecot, engine, sink)
            task = asyncio.create_task(running.run())
            if n == 0:
                dovecot.append(mails[0])
                await asyncio.wait_for(sink.wait_for(1), 30)
                sink.count = 0
            await asyncio.sleep(0.3 + 0.07 * n)  # somewhere inside an IDLE window, varied
            started = time.perf_counter()
            await asyncio.to_thread(dovecot.append, mails[n + 1])
            await asyncio.wait_for(sink.wait_for(1), 30)
            handover.append(time.perf_counter() - started)
            await asyncio.sleep(0.2 + 0.09 * n)
            started = time.perf_counter()
            running.stop()
            await asyncio.wait_for(task, 30)
            stops.append(time.perf_counter() - started)
    return handover, stops


def spread(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms (n={len(ms)})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--module", default="handlers.mail.imap")
    parser.add_argument("--db-dir", default=None, help="where the cursor's SQLite file goes")
    args = parser.parse_args()
    global DB_DIR
    DB_DIR = args.db_dir
    module = importlib.import_module(args.module)
    with running_dovecot() as server:
        elapsed, cpu = await backlog(module, server.account("backlog"), args.count)
        print(
            f"backlog of {args.count} mails in one round: {elapsed:.2f} s, "
            f"{args.count / elapsed:.0f} mails/s, {elapsed / args.count * 1000:.2f} ms per mail, "
            f"poller CPU {cpu / args.count * 1000:.2f} ms per mail"
        )
        if args.samples <= 0:
            return
        handover, stops = await idle_and_stop(module, server.account("idle"), args.samples)
        print(f"APPEND to delivery through IDLE: {spread(handover)}")
        print(f"stop() during IDLE to run() returning: {spread(stops)}")


if __name__ == "__main__":
    asyncio.run(main())

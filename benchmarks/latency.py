"""Acknowledgement latency and SMTP answer time under a steady stream of new requests.

The service runs as `dsr serve` runs it: the desk built and warmed up from default settings,
the real SMTP listener and the outbox worker in one event loop, outbound mail through
`DSR_SMTP_RELAY` to a local relay (an aiosmtpd sink in its own thread). A client in another
process (as a mail server would be) opens one SMTP conversation per request at a fixed rate,
each with its own sender and Message-ID, and notes when the answer to DATA (our 250) comes; the
sink notes when the acknowledgement that answers it (In-Reply-To) arrives. Both read the
system's monotonic clock, which on Linux is one clock for all processes.

    uv run python benchmarks/latency.py [--rate 20] [--count 400] [--db sqlite|postgresql]
                                         [--poll-only]

`--poll-only` stops the desk from waking the worker on commit, so that it finds mail only on
its interval (handlers/mail/delivery.py WAKE_SECONDS): the figure to compare with.

Targets: acknowledgement at the relay within 1 s of our 250 at p99, and our answer to DATA
within 50 ms at p99, at 20 requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib  # noqa: E402
import psycopg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

from bot.desk import Desk  # noqa: E402
from bot.intake import warm_up  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.logsetup import configure_logging  # noqa: E402
from handlers.mail.delivery import outbox_worker  # noqa: E402
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener  # noqa: E402
from handlers.runtime import build_desk, utcnow  # noqa: E402
from storage.sealing import generate_key  # noqa: E402

POSTGRES_URL = os.environ.get(
    "DSR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MAILBOX = "secretariaat@proambt.nl"
ACK_TARGET, ANSWER_TARGET = 1.0, 0.050
REQUESTS = (
    (
        "Inzageverzoek persoonsgegevens",
        "Geachte heer/mevrouw,\n\nOp grond van artikel 15 van de AVG verzoek ik u om inzage in "
        "alle persoonsgegevens die u over mij verwerkt.\n\nMet vriendelijke groet,\n{name}\n",
    ),
    (
        "Request to delete my personal data",
        "Dear Sir or Madam,\n\nUnder Article 17 GDPR I ask you to erase all personal data you "
        "hold about me and to confirm once this has been done.\n\nKind regards,\n{name}\n",
    ),
    (
        "Verzoek om correctie van mijn gegevens",
        "Beste,\n\nIn uw administratie staat mijn adres niet goed. Wilt u mijn gegevens "
        "corrigeren (art. 16 AVG)? Mijn nieuwe adres is Kerkstraat 12, Utrecht.\n\n{name}\n",
    ),
    (
        "Subject access request",
        "Hello,\n\nPlease send me a copy of all personal data you process about me, as "
        "Article 15 of the GDPR allows.\n\nThank you,\n{name}\n",
    ),
)


class Sink:
    """The relay: notes when each acknowledgement arrives, by the request it answers."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        at = time.monotonic()
        head = (envelope.original_content or b"").split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"in-reply-to:"):
                with self.lock:
                    self.arrived.setdefault(line.split(b":", 1)[1].strip().decode(), at)
        return "250 2.0.0 queued"


class LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: learn the bound port before the readiness probe."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


def request(n: int, run: str) -> EmailMessage:
    subject, body = REQUESTS[n % len(REQUESTS)]
    name = f"Requester {n}"
    mail = EmailMessage()
    mail["From"] = f"{name} <person.{run}.{n}@example.nl>"
    mail["To"] = MAILBOX
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<latency-{run}-{n}@example.nl>"
    mail.set_content(body.format(name=name))
    return mail


async def send_one(
    port: int, mail: tuple[str, bytes], answers: dict[str, tuple[float, float]]
) -> None:
    """One SMTP conversation; records (seconds DATA took to be answered, when it was)."""
    message_id, raw = mail
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
    await client.connect()
    try:
        await client.ehlo()
        await client.mail(f"sender@{uuid.uuid4().hex[:6]}.example.nl")
        await client.rcpt(MAILBOX)
        started = time.monotonic()
        await client.data(raw)
        answered = time.monotonic()
        answers[message_id] = (answered - started, answered)
    finally:
        await client.quit()


def client(port: int, mails: list[tuple[str, bytes]], rate: float) -> dict[str, Any]:
    """Send `mails` at `rate` per second (open loop: a slow answer does not slow the rate)."""
    answers: dict[str, tuple[float, float]] = {}
    failures: list[str] = []

    async def main() -> None:
        start = time.monotonic()
        tasks = []
        for n, mail in enumerate(mails):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send_one(port, mail, answers)))
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                failures.append(f"{type(outcome).__name__}: {outcome}")

    asyncio.run(main())
    return {"answers": answers, "failures": failures}


def settings_for(url: str, work: Path, relay_port: int, *, key: str = "") -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        outbox_dir=str(work / "outbox"),
        var_dir=str(work / "var"),
        smtp_relay=f"smtp://127.0.0.1:{relay_port}",
        encryption_key=key,
        db_auto_upgrade=True,
    )


@contextmanager
def service_desk(kind: str, work: Path, relay_port: int) -> Iterator[Desk | None]:
    if kind == "sqlite":
        desk = build_desk(settings_for(f"sqlite:///{work}/dsr.db", work, relay_port))
        yield desk
        desk.engine.dispose()
        return
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
    try:
        desk = build_desk(settings_for(url, work, relay_port, key=generate_key()))
        yield desk
        desk.engine.dispose()
    finally:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def serve_and_load(
    desk: Desk, sink: Sink, mails: list[tuple[str, bytes]], rate: float, drain: float
) -> dict[str, Any]:
    """The listener and the outbox worker in this loop (as `dsr serve`), the client in another
    process; returns once every acknowledgement arrived, or `drain` s after the last request."""
    stop = asyncio.Event()
    worker = asyncio.create_task(outbox_worker(desk).run(stop))
    server = await start_listener(desk, host="127.0.0.1", port=0)
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            sent = await loop.run_in_executor(pool, client, bound_port(server), mails, rate)
        deadline = time.monotonic() + drain
        wanted = set(sent["answers"])
        while time.monotonic() < deadline and not wanted <= set(sink.arrived):
            await asyncio.sleep(0.05)
        return sent
    finally:
        stop.set()
        await close_listener(server)
        await worker


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(label: str, sent: dict[str, Any], sink: Sink, count: int) -> bool:
    answers: dict[str, tuple[float, float]] = sent["answers"]
    times = [took for took, _ in answers.values()]
    acks = [sink.arrived[mid] - at for mid, (_, at) in answers.items() if mid in sink.arrived]
    print(f"\n{label} (load average {os.getloadavg()[0]:.1f})")
    print(f"  {len(answers)} of {count} requests answered 250", end="")
    print(f", {len(sent['failures'])} failed" if sent["failures"] else "")
    for failure in sent["failures"][:3]:
        print(f"  {failure}")
    if not times:
        return False
    print(
        f"  our answer to DATA:  p50 {statistics.median(times) * 1000:6.1f} ms   "
        f"p99 {pct(times, 99) * 1000:6.1f} ms   max {max(times) * 1000:6.1f} ms"
    )
    missing = len(answers) - len(acks)
    if acks:
        print(
            f"  ack at the relay:    p50 {statistics.median(acks) * 1000:6.0f} ms   "
            f"p99 {pct(acks, 99) * 1000:6.0f} ms   max {max(acks) * 1000:6.0f} ms after our 250"
            + (f"   ({missing} never arrived)" if missing else "")
        )
    ack_ok = bool(acks) and missing == 0 and pct(acks, 99) < ACK_TARGET
    answer_ok = pct(times, 99) < ANSWER_TARGET and not sent["failures"]
    print(
        f"  targets: ack p99 < {ACK_TARGET:.0f} s {'met' if ack_ok else 'MISSED'}; "
        f"answer p99 < {ANSWER_TARGET * 1000:.0f} ms {'met' if answer_ok else 'MISSED'}"
    )
    return ack_ok and answer_ok


def run(kind: str, args: argparse.Namespace, work: Path) -> bool | None:
    sink = Sink()
    controller = LoopbackController(sink, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        with service_desk(kind, work / kind, controller.port) as desk:
            if desk is None:
                return None
            warm_up(desk, now=utcnow())
            if args.poll_only:
                desk.outbox_queued.notify = lambda channels: None  # type: ignore[method-assign]
            run_id = uuid.uuid4().hex[:8]
            built = (request(n, run_id) for n in range(args.count))
            mails = [(mail["Message-ID"], mail.as_bytes()) for mail in built]
            sent = asyncio.run(serve_and_load(desk, sink, mails, args.rate, args.drain))
    finally:
        controller.stop()
    how = "woken on commit" if not args.poll_only else "polling only"
    return report(f"{kind}, {args.rate:g} requests/s, worker {how}", sent, sink, args.count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait for acks")
    parser.add_argument("--poll-only", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    met = True
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as log:
        work = Path(tmp)
        configure_logging(settings_for(f"sqlite:///{work}/x.db", work, 25), stream=log)
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        for kind in kinds:
            outcome = run(kind, args, work)
            met &= outcome is not False
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

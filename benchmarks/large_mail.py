"""One very large request-like mail beside ordinary ones, through the real SMTP listener.

A large mail must not stall intake: recognition reads a bounded part of the text outside the
write transaction, so the other senders' answers stay quick while the large one is handled.

    uv run python benchmarks/large_mail.py [--size-mb 8] [--others 100]

Prints the SMTP answer time of the large mail, and the median and worst answer time of the
ordinary mails sent at the same moment (target: worst under 1 s), and that every mail was
stored.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from bot.intake import warm_up  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener  # noqa: E402
from handlers.runtime import build_desk  # noqa: E402
from storage.models import Message  # noqa: E402

MAILBOX = "secretariaat@proambt.nl"
WORST_TARGET_S = 1.0


def mail(sender: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = MAILBOX
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.nl")
    message.set_content(body)
    return message.as_bytes()


def large_request(size: int) -> bytes:
    line = "Ik wil graag inzage in al mijn persoonsgegevens en een kopie daarvan, graag.\n"
    return mail("Groot <groot@example.nl>", "Inzageverzoek", line * (size // len(line)))


async def timed_send(raw: bytes, port: int) -> float:
    started = time.perf_counter()
    await aiosmtplib.send(
        raw, sender="x@example.nl", recipients=[MAILBOX], hostname="127.0.0.1", port=port,
        timeout=600,
    )  # fmt: skip
    return time.perf_counter() - started


async def run(size: int, others: int, work: Path) -> int:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{work}/dsr.db",
        outbox_dir=str(work / "outbox"),
        var_dir=str(work / "var"),
        db_auto_upgrade=True,
        max_message_bytes=max(size * 2, 30_000_000),
    )
    desk = build_desk(settings)
    warm_up(desk, now=datetime.now(UTC))
    server = await start_listener(desk, host="127.0.0.1", port=0)
    port = bound_port(server)
    try:
        big = asyncio.create_task(timed_send(large_request(size), port))
        await asyncio.sleep(0)  # the large mail's connection opens first
        ordinary = [
            mail(f"Persoon {n} <p{n}@example.nl>", f"Afspraak {n}", "Kunnen we dinsdag bellen?")
            for n in range(others)
        ]
        times: list[float] = []
        for start in range(0, others, 10):  # ten senders at a time
            batch = ordinary[start : start + 10]
            times += await asyncio.gather(*(timed_send(raw, port) for raw in batch))
        big_time = await big
    finally:
        await close_listener(server)
    with desk.transaction() as session:
        stored = session.exec(
            select(func.count()).select_from(Message).where(Message.direction == "in")
        ).one()
    worst = max(times)
    print(
        f"large mail {size / 1e6:.1f} MB: answered in {big_time:.2f} s; {others} ordinary mails "
        f"beside it: median {statistics.median(times) * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
        f"(target < {WORST_TARGET_S * 1000:.0f} ms); inbound rows stored {stored} "
        f"of {others + 1}"
    )
    return 0 if worst < WORST_TARGET_S and stored >= others + 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=8.0)
    parser.add_argument("--others", type=int, default=100)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(run(int(args.size_mb * 1_000_000), args.others, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())

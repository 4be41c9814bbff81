"""A very large request-like mail against a real `dsr serve`: intake goes on for everyone else,
the mail is stored, and SIGTERM while it is being handled stops the service within 5 s.

An outside review sent a 7.8 MB request-like mail: recognition was quadratic and ran inside the
write transaction, every other sender got 451 for 17 minutes, SIGTERM did not stop the process
and the mail was never stored (so an MTA would send it again and repeat the outage).
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import struct
import termios
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlmodel import col, select

from handlers.runtime import build_desk
from storage.models import Message
from tests.factories import make_settings
from tests.faults.child import MAILBOX, Child, Tally, child_env, free_port, send_until_accepted

pytestmark = pytest.mark.slow
SIZE = 8_000_000
LINE = "Ik wil graag inzage in al mijn persoonsgegevens en een kopie daarvan, graag.\n"


def request_mail(subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Groot <groot@example.nl>"
    mail["To"] = MAILBOX
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="example.nl")
    mail.set_content(body)
    return mail


async def data_then_no_wait(port: int, raw: bytes) -> asyncio.StreamWriter:
    """An SMTP conversation that sends the whole message and its final dot, and returns
    without reading the answer (the service is then busy with exactly this mail)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    for command in (b"EHLO test", b"MAIL FROM:<groot@example.nl>", f"RCPT TO:<{MAILBOX}>"):
        writer.write((command if isinstance(command, bytes) else command.encode()) + b"\r\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if line[3:4] != b"-":
                break
    writer.write(b"DATA\r\n")
    await writer.drain()
    await reader.readline()
    stuffed = raw.replace(b"\r\n.", b"\r\n..").replace(b"\n.", b"\n..")
    writer.write(stuffed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n.\r\n")
    await writer.drain()
    sock = writer.get_extra_info("socket")
    while writer.transport.get_write_buffer_size() or _unsent(sock.fileno()):
        await asyncio.sleep(0.01)  # until the service has every byte, its final dot included
    return writer


def _unsent(fd: int) -> int:
    """Bytes the kernel has not yet delivered to the peer (Linux SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0"))[0]


def _inbound_rows(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM message").fetchone()[0])


def test_sigterm_while_a_large_mail_is_handled_stops_within_five_seconds(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = child_env(tmp_path, port, DSR_MAX_MESSAGE_BYTES="30000000")
    child = Child(env, cwd=tmp_path, log=tmp_path / "serve.log", port=port)
    child.start()
    big = request_mail("Inzageverzoek", LINE * (SIZE // len(LINE)))
    process = child.process
    assert process is not None

    async def terminate_while_busy() -> tuple[int, float]:
        writer = await data_then_no_wait(port, big.as_bytes())
        # The service stores a mail before recognising it: once the row is there, it is busy
        # with this mail. (Up to 10 s: a service that never stores it is busy all the same.)
        waited = time.monotonic()
        while not _inbound_rows(tmp_path / "dsr.db") and time.monotonic() - waited < 10:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        process.terminate()
        code = await asyncio.to_thread(process.wait, 30)
        writer.close()
        return code, time.monotonic() - started

    try:
        code, took = asyncio.run(terminate_while_busy())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert took < 5.0, f"shutdown took {took:.1f} s: {child.tail()}"
    assert code == 0, child.tail()


def test_intake_goes_on_beside_a_large_mail_and_every_mail_is_stored(tmp_path: Path) -> None:
    port = free_port()
    env = child_env(tmp_path, port, DSR_MAX_MESSAGE_BYTES="30000000")
    child = Child(env, cwd=tmp_path, log=tmp_path / "serve.log", port=port)
    big = request_mail("Inzageverzoek", LINE * (SIZE // len(LINE)))
    ordinary = [
        request_mail(f"Inzage {n}", "Ik wil graag inzage in mijn persoonsgegevens.")
        for n in range(30)
    ]
    tally = Tally()

    async def deliver() -> None:
        up = asyncio.Event()
        up.set()
        large = asyncio.create_task(send_until_accepted(port, big, tally, up=up))
        await asyncio.gather(*(send_until_accepted(port, m, tally, up=up) for m in ordinary))
        await large

    child.start()
    try:
        asyncio.run(deliver())
    finally:
        assert child.stop() == 0, child.tail()
    # Every sender got its 250 without a single 4xx: nothing waited for a lock held by another.
    assert tally.temporary == 0 and not tally.refused
    assert len(tally.accepted) == len(ordinary) + 1
    desk = build_desk(make_settings(f"sqlite:///{tmp_path / 'dsr.db'}", tmp_path), migrate=False)
    with desk.transaction() as session:
        stored = session.exec(
            select(Message.message_id, Message.action).where(col(Message.direction) == "in")
        ).all()
    actions = dict(stored)
    assert len(actions) == len(ordinary) + 1
    assert actions[str(big["Message-ID"])] in {"created", "review"}

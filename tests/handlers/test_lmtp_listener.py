"""The listener speaking LMTP (DSR_SMTP_PROTOCOL=lmtp), driven by the stdlib LMTP client."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from bot.desk import Desk
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.runtime import build_desk
from storage.models import Case, Message
from tests.factories import make_settings
from tests.mailbuilder import build_mail

MAILBOXES = "secretariaat@proambt.nl,privacy@proambt.nl"


async def _lmtp(port: int, raw: bytes, recipients: list[str]) -> list[str]:
    """One LMTP transaction by hand (the stdlib client reads only one reply after DATA);
    returns the RCPT replies and then the DATA replies."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> str:
        while True:  # multi-line replies: "250-..." lines, then "250 ..."
            line = (await reader.readline()).decode().rstrip()
            if line[3:4] != "-":
                return line

    async def command(text: str) -> str:
        writer.write(text.encode() + b"\r\n")
        await writer.drain()
        return await reply()

    await reply()  # greeting
    await command("LHLO test.example")
    await command("MAIL FROM:<jan.jansen@example.nl>")
    answers = [await command(f"RCPT TO:<{r}>") for r in recipients]
    accepted = sum(a.startswith("250") for a in answers)
    await command("DATA")
    writer.write(raw.replace(b"\n.", b"\n..") + b"\r\n.\r\n")
    await writer.drain()
    answers += [await reply() for _ in range(accepted)]
    await command("QUIT")
    writer.close()
    return answers


async def test_lmtp_answers_each_recipient_and_stores_the_mail_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    desk: Desk = build_desk(
        make_settings(sqlite_url, tmp_path, smtp_protocol="lmtp", mailbox_addresses=MAILBOXES)
    )
    server = await start_listener(desk, host="127.0.0.1", port=0)
    try:
        both = await _lmtp(bound_port(server), build_mail(), MAILBOXES.split(","))
        one = await _lmtp(
            bound_port(server), build_mail(), ["secretariaat@proambt.nl", "x@proambt.nl"]
        )
    finally:
        await close_listener(server)
    # two RCPT answers, then one DATA answer per accepted recipient
    assert [a[:3] for a in both] == ["250", "250", "250", "250"]
    assert [a[:3] for a in one] == ["250", "550", "250"]
    # Each recipient's DATA answer says only that the mail is queued, not what became of it.
    assert both[2:] == ["250 2.0.0 queued"] * 2
    assert one[2:] == ["250 2.0.0 queued"]
    with desk.transaction() as session:
        stored = session.exec(
            select(func.count()).select_from(Message).where(Message.direction == "in")
        ).one()
        cases = session.exec(select(func.count()).select_from(Case)).one()
    assert (stored, cases) == (2, 2)

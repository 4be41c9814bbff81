"""Mails built in code for tests, and readers for what we queued."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from sqlmodel import col, select

from bot.desk import Desk
from storage.models import OutboxItem

_counter = iter(range(1, 1_000_000))


def build_mail(
    *,
    sender: str = "Jan Jansen <jan.jansen@example.nl>",
    to: str = "secretariaat@proambt.nl",
    subject: str = "Inzageverzoek",
    body: str = "Beste secretariaat,\n\nIk wil graag inzage in alle persoonsgegevens die u "
    "over mij heeft.\n\nMet vriendelijke groet,\nJan Jansen\n",
    headers: dict[str, str] | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(idstring=f"t{next(_counter)}", domain="example.nl")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()


def outbound(desk: Desk) -> list[tuple[OutboxItem, EmailMessage]]:
    with desk.transaction() as session:
        items = session.exec(
            select(OutboxItem).where(OutboxItem.channel == "mail").order_by(col(OutboxItem.id))
        ).all()
    return [(item, email.message_from_bytes(item.payload, policy=policy.default)) for item in items]


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def code_in(mail: EmailMessage) -> str | None:
    match = re.search(r"^\s{4}(\d{6})\s*$", text_of(mail), re.MULTILINE)
    return match.group(1) if match else None

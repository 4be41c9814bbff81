"""`dsr demo`: sample requests (nl and en) through the real pipeline, then the queue.

The listener runs on a free loopback port inside this process; the samples arrive over a real
SMTP conversation; the outbox worker writes the replies into a Maildir. By default everything
lands in a fresh demo store: DSR_VAR_DIR/demo is the demo's own var dir (database, keys, audit
head, outbox), so a real queue and its audit trail are never touched; `--in-place` uses the
configured database instead (replies still go to the Maildir).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib

from bot import cases as core
from bot.desk import Desk
from bot.review import list_reviews
from bot.settings import Settings, load_settings
from bot.views import case_summary
from handlers.cli.cases import print_rows
from handlers.mail.delivery import MaildirTransport, OutboxWorker
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.runtime import build_desk, utcnow
from storage.messages import find_stored


@dataclass(frozen=True)
class Sample:
    label: str
    sender: str
    subject: str
    body: str
    headers: tuple[tuple[str, str], ...] = ()


SAMPLES = (
    Sample(
        "nl access",
        "Jan de Vries <jan.devries@voorbeeld.nl>",
        "Inzageverzoek persoonsgegevens",
        "Geachte heer/mevrouw,\n\nMijn werkgever, Bouwbedrijf Hendriks B.V., heeft mijn "
        "pensioenregeling bij u ondergebracht. Op grond van artikel 15 van de AVG verzoek ik u "
        "om inzage in alle persoonsgegevens die u over mij verwerkt, het doel van de verwerking "
        "en aan wie u mijn gegevens heeft verstrekt.\n\nMet vriendelijke groet,\n\nJan de Vries\n"
        "Personeelsnummer 40127\n",
    ),
    Sample(
        "en erasure",
        "Emily Clarke <emily.clarke@example.co.uk>",
        "Request to delete my personal data",
        "Dear Sir or Madam,\n\nI left Delta Logistics in 2019 and my pension has since been "
        "transferred. Under Article 17 GDPR I ask you to erase all personal data you still hold "
        "about me and to confirm in writing once this has been done.\n\nKind regards,\n"
        "Emily Clarke\n",
    ),
    Sample(
        "nl correction",
        "Fatima el Amrani <f.elamrani@voorbeeld.nl>",
        "Onjuiste gegevens in mijn pensioenoverzicht",
        "Goedemiddag,\n\nIn het pensioenoverzicht dat ik vorige week ontving staat mijn "
        "achternaam verkeerd gespeld (\u2018El Amrani\u2019 met hoofdletter) en mijn "
        "geboortedatum klopt niet: dat moet 14-03-1986 zijn. Wilt u deze gegevens corrigeren?"
        "\n\nBij voorbaat dank,\nFatima el Amrani\n",
    ),
    Sample(
        "en correction",
        "Tom Bakker <tom.bakker@example.com>",
        "Wrong address on file",
        "Hello,\n\nYour letters still go to my old address. Please rectify my address in your "
        "records: it is now Laan van Meerdervoort 210, 2517 BJ Den Haag.\n\nThanks,\nTom\n",
    ),
    Sample(
        "nl out-of-office",
        "Petra Smit <p.smit@klant-hr.nl>",
        "Automatisch antwoord: Offerte collectieve pensioenregeling 2026",
        "Ik ben afwezig tot en met maandag 16 maart en heb beperkt toegang tot mijn e-mail. "
        "Voor dringende zaken kunt u contact opnemen met hr@klant-hr.nl.\n\nMet vriendelijke "
        "groet,\nPetra Smit\n",
        (("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")),
    ),
    Sample(
        "en ordinary mail",
        "Mark Visser <m.visser@example.com>",
        "Meeting on Thursday",
        "Hi all,\n\nCould we move Thursday's meeting about the new pension scheme to 14:00?"
        "\n\nBest,\nMark\n",
    ),
    Sample(
        "nl unclear mail",
        "Herman Bosman <h.bosman@voorbeeld.nl>",
        "Vraag",
        "Beste,\n\nWat doen jullie eigenlijk met mijn gegevens?\n\nGroet,\nHerman Bosman\n",
    ),
)

FOLLOW_UP = (
    "Dank voor uw snelle bevestiging. Mijn code is {code}. Ik vergat te vermelden dat ik ook "
    "graag een kopie ontvang van de gegevens die mijn werkgever in 2024 aan u heeft "
    "doorgegeven.\n\nMet vriendelijke groet,\nJan de Vries\n"
)
CODE_LINE = re.compile(r"^\s{4}(\d{3})(\d{3})\s*$", re.MULTILINE)


def code_from(mail: EmailMessage) -> str | None:
    """The one-time code in our code mail, as a person would type it back."""
    body = mail.get_body(preferencelist=("plain",))
    match = CODE_LINE.search(body.get_content() if body is not None else "")
    return f"{match.group(1)} {match.group(2)}" if match else None


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo", help="feed sample requests through the pipeline / voorbeeldverzoeken verwerken"
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="use the configured database instead of a fresh demo store",
    )
    parser.set_defaults(func=run)


def demo_settings(*, in_place: bool) -> Settings:
    configured = load_settings()
    if in_place:
        return load_settings(smtp_relay="")
    store = configured.var_dir / "demo"
    shutil.rmtree(store, ignore_errors=True)
    # Its own var dir, not only its own database: the keys that seal it and the file that
    # records its audit trail's head belong to it (the configured ones belong to the real one).
    return load_settings(
        var_dir=str(store),
        database_url=f"sqlite:///{store / 'dsr.db'}",
        outbox_dir=str(store / "outbox"),
        smtp_relay="",
    )


def look_around(config: Settings) -> str:
    """The settings that open the demo store (its database follows DSR_VAR_DIR unless
    DSR_DATABASE_URL is set, say in .env)."""
    prefix = f"DSR_VAR_DIR={config.var_dir}"
    if "database_url" in load_settings().model_fields_set:
        prefix += f" DSR_DATABASE_URL={config.database_url}"
    return prefix


def build_mail(sample: Sample, *, to: str, reply_to: EmailMessage | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sample.sender
    mail["To"] = to
    mail["Subject"] = sample.subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = make_msgid(domain=sample.sender.rpartition("@")[2].rstrip(">"))
    if reply_to is not None:
        mail["In-Reply-To"] = reply_to["Message-ID"]
        mail["References"] = reply_to["Message-ID"]
    for name, value in sample.headers:
        mail[name] = value
    mail.set_content(sample.body)
    return mail


async def send(port: int, mail: EmailMessage, *, to: str) -> str:
    """One SMTP conversation; returns the server's answer to DATA (or the refusal)."""
    try:
        _, answer = await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, recipients=[to])
    except aiosmtplib.SMTPRecipientsRefused as exc:
        return f"{exc.recipients[0].code} {exc.recipients[0].message}"
    except aiosmtplib.SMTPResponseException as exc:
        return f"{exc.code} {exc.message}"
    return f"250 {answer}"


def delivered(outbox: Path) -> list[EmailMessage]:
    mails = (message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*"))
    return [m for m in mails if isinstance(m, EmailMessage)]


def find_code_mail(outbox: Path, to: str) -> EmailMessage | None:
    """The mail that carries the code of the request from `to` (it answers no mail)."""
    return next((m for m in delivered(outbox / "new") if str(m["To"]) == to and code_from(m)), None)


def what_intake_did(desk: Desk, message_id: str) -> str:
    """The desk's own record of a mail (the SMTP answer says only that it was queued)."""
    with desk.reading() as session:
        found = find_stored(session=session, direction="in", dedupe_key=message_id)
    if found is None:
        return "not stored"
    return f"{found.action} {found.reference}" if found.reference else found.action


async def feed(desk: Desk) -> list[tuple[str, str]]:
    """Send every sample, deliver the replies, answer the first acknowledgement."""
    to = desk.settings.mailboxes[0]
    outbox = desk.settings.outbox_dir
    worker = OutboxWorker(desk, MaildirTransport(outbox))
    server = await start_listener(desk, host="127.0.0.1", port=0)
    answers: list[tuple[str, str]] = []
    try:
        port = bound_port(server)
        first: EmailMessage | None = None
        for sample in SAMPLES:
            mail = build_mail(sample, to=to)
            first = first or mail
            answers.append((sample.label, await _sent(desk, port, mail, to=to)))
        await worker.run_once()
        code_mail = (
            find_code_mail(outbox, str(first["From"].addresses[0].addr_spec)) if first else None
        )
        if code_mail is not None:
            text = FOLLOW_UP.format(code=code_from(code_mail))
            reply = Sample("nl follow-up", SAMPLES[0].sender, f"Re: {code_mail['Subject']}", text)
            follow_up = build_mail(reply, to=to, reply_to=code_mail)
            answers.append((reply.label, await _sent(desk, port, follow_up, to=to)))
        await worker.run_once()
    finally:
        await close_listener(server)
    return answers


async def _sent(desk: Desk, port: int, mail: EmailMessage, *, to: str) -> str:
    answer = await send(port, mail, to=to)
    if not answer.startswith("2"):
        return answer
    return f"{answer} ({what_intake_did(desk, str(mail['Message-ID']))})"


def run(args: argparse.Namespace) -> int:
    config = demo_settings(in_place=args.in_place)
    desk = build_desk(config)
    new = config.outbox_dir / "new"
    before = set(new.glob("*")) if new.exists() else set()
    print(f"dsr demo: {config.database_url}; replies into {config.outbox_dir}\n")
    answers = asyncio.run(feed(desk))
    for label, answer in answers:
        print(f"  {label:<18} -> {answer}")
    now = utcnow()
    rows = [
        case_summary(case, now=now, tz=desk.tz)
        for case in core.list_cases(desk, query=core.CaseQuery(), now=now)
    ]
    print("\nQueue / werkvoorraad:")
    print_rows(rows)
    waiting = list_reviews(desk, now=now)
    print(
        f"Waiting for a person / wacht op beoordeling: {len(waiting)} mail(s) that might be a "
        "request (no case, nothing sent; see dsr review list)"
    )
    written = sorted(set(new.glob("*")) - before)
    print(f"\nReplies / antwoorden: {len(written)} mail(s) in {new}")
    for path in written:
        print(f"  {path}")
    if not args.in_place:
        print(f"\nLook around / rondkijken: {look_around(config)} uv run dsr review list")
    return 0 if all(answer.startswith("2") for _, answer in answers) else 1

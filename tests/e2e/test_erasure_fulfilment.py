"""An erasure request end to end with real mail: SMTP into our listener, the outbox delivered
through a relay on loopback (aiosmtpd), the code read from what the relay received, tasks for
the CRM (an owner reached by mail), the payroll office (a processor that keeps the fiscal
records) and the debt-collection agency (a recipient told, art. 19); the payroll office's
reply by SMTP threads to its task; the secretariat records the results and closes the case
with the `dsr` commands; the Dutch outcome mail names the law, the recipients told and the
right to complain to the Autoriteit Persoonsgegevens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.desk import Desk
from bot.intake import process_message
from bot.keys import generate_key
from bot.settings import load_settings
from handlers.mail.delivery import OutboxWorker, SmtpRelay
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.runtime import build_desk, utcnow
from tests.handlers.test_cli import run_cli
from tests.mailbuilder import build_mail, code_in, outbound, text_of

MAILBOX = "secretariaat@proambt.nl"
PERSON = "jan.jansen@example.nl"
PAYROLL = "privacy@salariskantoor.example"
CRM_OWNER = "crm-beheer@proambt.nl"
INVENTORY = """
[[system]]
id = "crm"
name = "CRM (relatiebeheer)"
kind = "internal"
owner = "crm-beheer@proambt.nl"
recipients = ["incasso"]
instructions = "Relatie > Acties > Anonimiseren."

[[system]]
id = "salaris"
name = "Salarisadministratie (extern salariskantoor)"
kind = "processor"
contact = "privacy@salariskantoor.example"
keep_years = 7
keep_law = "artikel 52 Algemene wet inzake rijksbelastingen (fiscale bewaarplicht van zeven jaar)"
instructions = "Beperk de loongegevens; verwijder wat niet onder de bewaarplicht valt."

[[system]]
id = "incasso"
name = "Incassobureau"
kind = "recipient"
contact = "privacy@incasso.example"
"""
ERASURE = (
    "Beste secretariaat,\n\nIk verzoek u al mijn persoonsgegevens te verwijderen (recht op "
    "vergetelheid, artikel 17 AVG).\n\nMet vriendelijke groet,\nJan Jansen\n"
)


class Relay:
    """The outbound relay: records what our delivery hands over."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mail = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), mail))
        return "250 2.0.0 queued"

    def to(self, address: str) -> list[EmailMessage]:
        return [mail for rcpts, mail in self.received if rcpts == [address]]


class LoopbackController(Controller):
    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    recorder = Relay()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@dataclass
class Office:
    desk: Desk
    port: int
    worker: OutboxWorker

    async def send(self, raw: bytes, *, sender: str) -> None:
        errors, _ = await aiosmtplib.send(
            raw, sender=sender, recipients=[MAILBOX], hostname="127.0.0.1", port=self.port
        )
        assert errors == {}

    async def deliver(self) -> None:
        report = await self.worker.run_once()
        assert report.failed == 0 and report.retried == 0


@pytest.fixture
async def office(
    monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path, relay: tuple[Relay, int]
) -> AsyncIterator[Office]:
    """`dsr serve`'s parts on one set of settings, which the `dsr` commands read too."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inventory.toml").write_text(INVENTORY, encoding="utf-8")
    for name, value in {
        "DSR_DATABASE_URL": db_url,
        "DSR_DB_AUTO_UPGRADE": "true",
        "DSR_ENCRYPTION_KEY": generate_key(),
        "DSR_SMTP_RELAY": f"smtp://127.0.0.1:{relay[1]}",
        "DSR_SMTP_LISTEN": "",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    desk = build_desk(settings)
    worker = OutboxWorker(desk, SmtpRelay(settings.smtp_relay, timeout=5), clock=utcnow)
    server = await start_listener(desk, host="127.0.0.1", port=0, clock=utcnow)
    try:
        yield Office(desk, bound_port(server), worker)
    finally:
        await close_listener(server)


def _json(args: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    code, out, err = run_cli([*args, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def _words(mail: EmailMessage) -> str:
    return " ".join(text_of(mail).split())


async def test_an_erasure_by_mail_through_tasks_to_the_outcome(
    office: Office, relay: tuple[Relay, int], capsys: pytest.CaptureFixture[str]
) -> None:
    sink, _ = relay
    await office.send(build_mail(subject="Verwijderen", body=ERASURE), sender=PERSON)
    await office.deliver()
    ack, code_mail = sink.to(PERSON)
    reference = str(ack["Subject"]).split("]")[0].strip(" [")
    assert 'alleen het woord "ja"' in _words(ack)
    code = code_in(code_mail)
    assert code is not None

    await office.send(
        build_mail(
            subject=f"Re: {code_mail['Subject']}",
            body=f"{code}\nja\n",
            in_reply_to=str(code_mail["Message-ID"]),
        ),
        sender=PERSON,
    )
    await office.deliver()
    shown = _json(["cases", "show", reference], capsys)
    assert isinstance(shown, dict)
    assert shown["verified"] is True and shown["client_may_be_informed"] is True
    tasks = {t["system"]: t for t in _json(["tasks", "list", reference], capsys)}  # type: ignore[union-attr]
    assert {s: (t["action"], t["state"]) for s, t in tasks.items()} == {
        "crm": ("erase", "open"),
        "salaris": ("restrict", "open"),  # keep_years: erasure becomes restriction
        "incasso": ("notify", "open"),
    }

    [asked] = sink.to(PAYROLL)
    assert "Verzoek van een betrokkene: actie nodig" in str(asked["Subject"])
    assert "beperk het gebruik van de persoonsgegevens van deze persoon" in _words(asked)
    assert PERSON in _words(asked) and asked["Content-Language"] == "nl"
    [owner] = sink.to("crm-beheer@proambt.nl")
    assert f"dsr tasks done {tasks['crm']['id']}" in _words(owner)
    assert len(sink.to("privacy@incasso.example")) == 1

    await office.send(
        build_mail(
            sender="Salariskantoor <privacy@salariskantoor.example>",
            subject=f"Re: {asked['Subject']}",
            body="Wij hebben de loongegevens beperkt; wij bewaren ze zeven jaar (fiscaal).",
            in_reply_to=str(asked["Message-ID"]),
        ),
        sender=PAYROLL,
    )
    waiting = {t["system"]: t for t in _json(["tasks", "list", reference], capsys)}  # type: ignore[union-attr]
    assert waiting["salaris"]["reply_received"] is True and waiting["salaris"]["state"] == "open"
    _, listed, _ = run_cli(["tasks", "list", reference], capsys)
    [line] = [x for x in listed.splitlines() if " salaris " in x]
    assert line.endswith("(reply received / antwoord ontvangen)")
    shown = _json(["cases", "show", reference], capsys)
    assert isinstance(shown, dict) and shown["verified"] is True  # identity untouched
    assert "task_reply_received" in [e["action"] for e in shown["events"]]

    code_, _, err = run_cli(["cases", "close", reference, "done", "--note", "klaar"], capsys)
    assert code_ == 1 and "open tasks" in err
    for system, result in (("salaris", "kept"), ("crm", "erased"), ("incasso", "told")):
        args = ["tasks", "done", str(tasks[system]["id"]), "--result", result]
        code_, out, err = run_cli([*args, "--note", "bevestigd"], capsys)
        assert code_ == 0, err
    code_, out, err = run_cli(["cases", "close", reference, "done", "--note", "klaar"], capsys)
    assert code_ == 0, err
    await office.deliver()

    outcome = next(m for m in sink.to(PERSON) if "afgehandeld" in str(m["Subject"]))
    text = _words(outcome)
    assert "CRM (relatiebeheer): wij hebben uw gegevens verwijderd." in text
    assert (
        "Salarisadministratie (extern salariskantoor): wij bewaren uw gegevens nog. Wij moeten "
        "deze gegevens bewaren op grond van artikel 52 Algemene wet inzake rijksbelastingen"
    ) in text
    assert "(artikel 19 AVG): Incassobureau." in text
    assert "klacht indienen bij de Autoriteit Persoonsgegevens" in text
    assert outcome["Content-Language"] == "nl"


def _crm_task(reference: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    listed = _json(["tasks", "list", reference], capsys)
    assert isinstance(listed, list)
    return next(t for t in listed if t["system"] == "crm")


async def test_the_owners_reply_by_mail_threads_to_the_crm_task_and_waits(
    office: Office, relay: tuple[Relay, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """The CRM's owner is reached by mail; their answer to the `task_owner` mail (our
    Message-ID in In-Reply-To) is stored with the case and shown on the task until a person
    records the result."""
    sink, _ = relay
    await office.send(build_mail(subject="Verwijderen", body=ERASURE), sender=PERSON)
    [ack, *_] = [m for _, m in outbound(office.desk) if m["To"] == PERSON]
    reference = str(ack["Subject"]).split("]")[0].strip(" [")
    code_, _, err = run_cli(["cases", "verify", reference, "--note", "paspoort gezien"], capsys)
    assert code_ == 0, err
    [asked] = [m for _, m in outbound(office.desk) if m["To"] == CRM_OWNER]
    task_id = _crm_task(reference, capsys)["id"]
    subject = (
        f"Re: [{reference}] Taak {task_id} voor CRM (relatiebeheer): verzoek van een betrokkene"
    )

    reply = build_mail(
        sender=f"CRM-beheer <{CRM_OWNER}>",
        subject=subject,
        body="Relatie geanonimiseerd via Relatie > Acties > Anonimiseren.",
        in_reply_to=str(asked["Message-ID"]),
    )
    result = process_message(office.desk, reply, now=utcnow(), source="test")
    assert (result.action, result.case) == ("threaded", reference)

    _, listed, _ = run_cli(["tasks", "list", reference], capsys)
    [line] = [x for x in listed.splitlines() if " crm " in x]
    assert line.endswith("(reply received / antwoord ontvangen)")
    waiting = _crm_task(reference, capsys)
    assert (waiting["state"], waiting["result"], waiting["reply_received"]) == ("open", None, True)
    shown = _json(["cases", "show", reference], capsys)
    assert isinstance(shown, dict)
    [stored] = [m for m in shown["messages"] if m["subject"] == subject]
    assert stored["direction"] == "in" and "task_reply" in stored["flags"]
    [event] = [e for e in shown["events"] if e["action"] == "task_reply_received"]
    assert event["actor"] == "owner" and event["details"]["task"] == task_id

    await office.deliver()  # Slack is off: the secretariat is asked to confirm by mail
    [confirm] = sink.to(office.desk.settings.alert_address)
    assert f"Antwoord ontvangen op taak {task_id} (CRM (relatiebeheer))" in str(confirm["Subject"])
    args = ["tasks", "done", str(task_id), "--result", "erased", "--note", "bevestigd"]
    code_, _, err = run_cli(args, capsys)
    assert code_ == 0, err
    done = _crm_task(reference, capsys)
    assert (done["state"], done["result"]) == ("done", "erased")

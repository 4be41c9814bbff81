"""The breach track end to end with real mail: a processor's notice reaches our SMTP listener,
the outbox delivers through a real SMTP relay (aiosmtpd on loopback), the reporter answers in
the thread, and the escalations fire at the simulated hours exactly once, also after a restart
(a second desk on the same database). Time is injected; nothing waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from bot import breaches as core
from bot.breach_mail import send_request
from bot.breach_register import register_rows
from bot.desk import Desk
from bot.sweep import run_sweep
from handlers.mail.delivery import OutboxWorker, SmtpRelay
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.runtime import build_desk
from tests.bot.test_breaches import INVENTORY, NOTICE, PROCESSOR
from tests.factories import T0, make_settings
from tests.handlers.test_delivery import LoopbackController, Sink
from tests.mailbuilder import build_mail

MAILBOX = "secretariaat@proambt.nl"
OWNER = "fg@proambt.nl"


class Desks:
    """The running desk with its listener, a clock the test moves, and the relay's sink."""

    def __init__(self, desk: Desk, sink: Sink, relay_port: int) -> None:
        self.desk = desk
        self.sink = sink
        self.relay_port = relay_port
        self.now = T0
        self.port = 0

    def clock(self) -> datetime:
        return self.now

    async def send(self, raw: bytes, *, sender: str) -> None:
        errors, _ = await aiosmtplib.send(
            raw, sender=sender, recipients=[MAILBOX], hostname="127.0.0.1", port=self.port
        )
        assert errors == {}

    async def deliver(self, desk: Desk | None = None) -> list[EmailMessage]:
        before = len(self.sink.received)
        relay = SmtpRelay(f"smtp://127.0.0.1:{self.relay_port}", timeout=5)
        worker = OutboxWorker(desk or self.desk, relay, clock=self.clock, jitter=lambda: 0.5)
        await worker.run_once()
        return [
            message_from_bytes(content, policy=policy.default)  # type: ignore[misc]
            for _, _, content in self.sink.received[before:]
        ]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, Controller]]:
    recorder = Sink()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield recorder, controller
    finally:
        controller.stop()


def settings(url: str, tmp_path: Path, relay_port: int) -> object:
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    return make_settings(
        url,
        tmp_path,
        inventory_file=inventory,
        privacy_owner=OWNER,
        smtp_relay=f"smtp://127.0.0.1:{relay_port}",
    )


@pytest.fixture
async def desks(
    sqlite_url: str, tmp_path: Path, sink: tuple[Sink, Controller]
) -> AsyncIterator[Desks]:
    recorder, controller = sink
    desk = build_desk(settings(sqlite_url, tmp_path, controller.port))  # type: ignore[arg-type]
    running = Desks(desk, recorder, controller.port)
    server = await start_listener(desk, host="127.0.0.1", port=0, clock=running.clock)
    running.port = bound_port(server)
    try:
        yield running
    finally:
        await close_listener(server)
        desk.engine.dispose()


def alerts(mails: list[EmailMessage]) -> list[str]:
    return [str(m["Subject"]) for m in mails if str(m["To"]) == OWNER]


async def test_a_processors_notice_from_receipt_to_the_register(
    desks: Desks, sqlite_url: str, tmp_path: Path
) -> None:
    # the notice arrives: a record and its clock, the opening alert, nothing to the processor
    notice = build_mail(sender=f"Marieke de Vries <{PROCESSOR}>", subject="Datalek", body=NOTICE)
    await desks.send(notice, sender=PROCESSOR)
    [breach] = core.all_breaches(desks.desk)
    reference = breach.reference
    assert (breach.processor, breach.aware_at) == ("salaris", T0)
    first = await desks.deliver()
    assert [str(m["To"]) for m in first] == [OWNER]
    assert alerts(first) == [f"[{reference}] Nieuw datalek: nog 72 uur tot de meldtermijn"]

    # a person confirms the question; it goes to the reporter in the notice's thread
    desks.now = T0 + timedelta(minutes=30)
    send_request(desks.desk, reference=reference, actor="cli:anna", now=desks.now)
    [question] = await desks.deliver()
    assert str(question["To"]) == PROCESSOR and reference in str(question["Subject"])
    notice_id = str(message_from_bytes(notice, policy=policy.default)["Message-ID"])
    assert str(question["In-Reply-To"]) == notice_id
    body = question.get_body(preferencelist=("plain",))
    assert body is not None and "gevolgen voor de betrokkenen" in body.get_content()

    # the reporter answers (threaded by our Message-ID only): the items fill
    desks.now = T0 + timedelta(hours=5)
    answer = build_mail(
        sender=f"Marieke de Vries <{PROCESSOR}>",
        subject="Re: uw vraag",
        body="Voor vragen: contactpersoon Marieke de Vries, 050 123 4567.\n\nHet risico op "
        "misbruik is klein. Wij ontdekten het op 1 maart om 16.30 uur. De betrokkenen zijn "
        "nog niet geinformeerd. Alle betrokkenen wonen in Nederland, dus niet "
        "grensoverschrijdend.\n\n> Uw melding van een datalek\n",
        in_reply_to=str(question["Message-ID"]),
    )
    await desks.send(answer, sender=PROCESSOR)
    facts = core.facts_of(core.get(desks.desk, reference=reference))
    for item in ("contact", "consequences", "discovered_at", "subjects_told", "cross_border"):
        assert facts[item]["source"] == "reply", item
    assert facts["cross_border"]["value"] == "no" and facts["subjects_told"]["value"] == "no"

    # escalations at the simulated hours, once, across a restart (a second desk)
    restarted = build_desk(settings(sqlite_url, tmp_path, desks.relay_port))  # type: ignore[arg-type]
    fired: list[str] = []
    try:
        for hours in (6, 23.9, 24, 24.1, 47, 48, 60, 60.5, 68, 71.9, 72, 72.9, 73):
            desks.now = T0 + timedelta(hours=hours)
            for desk in (desks.desk, restarted):
                run_sweep(desk, now=desks.now)
                fired += alerts(await desks.deliver(desk))
    finally:
        restarted.engine.dispose()
    assert [s.split(": ", 1)[1] for s in fired] == [
        "nog 48 uur tot de meldtermijn",
        "nog 24 uur tot de meldtermijn",
        "nog 12 uur tot de meldtermijn",
        "nog 4 uur tot de meldtermijn",
        "de meldtermijn verloopt nu",
        "de meldtermijn is 1 uur verstreken",
    ]

    # the decision stops the alerts, and the register holds it
    desks.now = T0 + timedelta(hours=73, minutes=20)
    core.decide(
        desks.desk,
        reference=reference,
        decision=core.Decision(
            ap=True,
            subjects=False,
            reasons="Salarisgegevens van 12 medewerkers bij een derde; gemeld, ontvanger "
            "heeft verwijderd.",
            ap_number="M-2026-0042",
        ),
        actor="cli:anna",
        now=desks.now,
    )
    run_sweep(desks.desk, now=T0 + timedelta(hours=80))
    assert alerts(await desks.deliver()) == []
    [row] = register_rows(desks.desk)
    assert (row["reference"], row["ap_notified"], row["ap_number"]) == (
        reference,
        "yes",
        "M-2026-0042",
    )
    assert "verkeerde klant" in row["nature"] and "verwijderen" in row["measures"]

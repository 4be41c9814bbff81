"""The outbox worker against a real SMTP sink (aiosmtpd on loopback) and a Maildir."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import col, select

from bot.compose import loop_mark
from bot.desk import Desk
from bot.intake import process_message
from bot.outbox import loop_token
from bot.views import case_detail
from handlers.mail.delivery import (
    MaildirTransport,
    OutboxWorker,
    PermanentDeliveryError,
    SmtpRelay,
    TemporaryDeliveryError,
    retried_for,
    retry_delay,
)
from handlers.slack.blocks import build_case_detail
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import AuditEvent, Case, OutboxItem
from storage.outbox import claim_due
from tests.factories import T0, make_settings

REQUEST = (
    b"From: Jan Jansen <jan.jansen@example.nl>\r\nTo: secretariaat@proambt.nl\r\n"
    b"Subject: Inzageverzoek\r\nMessage-ID: <req-1@example.nl>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n\r\n"
    b"Geachte heer/mevrouw,\r\n\r\nIk wil graag inzage in mijn persoonsgegevens (art. 15 AVG)."
    b"\r\n\r\nMet vriendelijke groet,\r\nJan Jansen\r\n"
)


class Sink:
    """Records accepted mail; answers DATA with the queued refusals first."""

    def __init__(self, refusals: list[str] | None = None) -> None:
        self.refusals = list(refusals or [])
        self.received: list[tuple[str, list[str], bytes]] = []
        self.attempts = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.refusals:
            return self.refusals.pop(0)
        content = envelope.original_content or b""
        self.received.append((envelope.mail_from or "", list(envelope.rcpt_tos), content))
        return "250 2.0.0 queued"


class LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: learn the bound port before the readiness probe."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, Controller]]:
    recorder = Sink()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield recorder, controller
    finally:
        controller.stop()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def relay(controller: Controller) -> SmtpRelay:
    return SmtpRelay(f"smtp://127.0.0.1:{controller.port}", timeout=5)


def worker(desk: Desk, transport: Any, clock: Clock, **kwargs: Any) -> OutboxWorker:
    return OutboxWorker(desk, transport, clock=clock, jitter=lambda: 0.5, **kwargs)


def outbox(desk: Desk) -> list[OutboxItem]:
    with desk.transaction() as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all())


def one_ack(desk: Desk, raw: bytes = REQUEST) -> OutboxItem:
    """Intake of a request, with its acknowledgement the only mail left in the outbox (other
    mail intake queues, such as the identity code, would only repeat what these tests see)."""
    result = process_message(desk, raw, now=T0, source="test")
    assert result.action == "created"
    with desk.transaction() as session:
        for other in session.exec(
            select(OutboxItem).where(OutboxItem.channel == "mail", OutboxItem.kind != "auto.ack")
        ):
            session.delete(other)
    (item,) = [i for i in outbox(desk) if i.channel == "mail"]
    return item


async def test_delivers_once_through_the_relay_with_loop_safe_headers(
    desk: Desk, sink: tuple[Sink, Controller]
) -> None:
    recorder, controller = sink
    item = one_ack(desk)
    report = await worker(desk, relay(controller), Clock(T0)).run_once()
    again = await worker(desk, relay(controller), Clock(T0 + timedelta(hours=1))).run_once()
    assert (report.sent, again.sent) == (1, 0)
    ((mail_from, rcpt_tos, content),) = recorder.received
    assert (mail_from, rcpt_tos) == ("secretariaat@proambt.nl", ["jan.jansen@example.nl"])
    mail = message_from_bytes(content, policy=policy.default)
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    with desk.transaction() as session:
        secret = loop_token(desk, session)
    assert mail["X-DSR-Loop"] == loop_mark(secret, item.message_id)
    assert secret.encode() not in content
    assert mail["In-Reply-To"] == "<req-1@example.nl>"
    assert mail["Message-ID"] == item.message_id
    (row,) = [i for i in outbox(desk) if i.channel == "mail"]
    assert (row.state, row.attempts, row.sent_at) == ("sent", 1, T0)


async def test_temporary_refusals_are_retried_with_backoff_then_delivered_once(
    desk: Desk, sink: tuple[Sink, Controller]
) -> None:
    recorder, controller = sink
    recorder.refusals = ["421 4.3.2 try later", "451 4.3.0 busy", "451 4.7.1 greylisted"]
    one_ack(desk)
    clock = Clock(T0)
    the_worker = worker(desk, relay(controller), clock)
    expected_gaps = [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    for gap in expected_gaps:
        report = await the_worker.run_once()
        assert report.retried == 1
        (row,) = [i for i in outbox(desk) if i.channel == "mail"]
        assert row.state == "pending"
        assert row.next_attempt_at == clock.now + gap
        assert row.last_error.startswith(("421", "451"))
        assert (await the_worker.run_once()).sent == 0  # not due yet: nothing is sent early
        clock.now = row.next_attempt_at
    assert (await the_worker.run_once()).sent == 1
    (row,) = [i for i in outbox(desk) if i.channel == "mail"]
    assert (row.state, row.attempts, row.sent_at) == ("sent", 4, clock.now)
    assert len(recorder.received) == 1
    assert recorder.attempts == 4


async def test_permanent_refusal_fails_the_row_with_the_server_answer(
    desk: Desk, sink: tuple[Sink, Controller]
) -> None:
    recorder, controller = sink
    recorder.refusals = ["550 5.1.1 <jan.jansen@example.nl>: Recipient address rejected"]
    item = one_ack(desk)
    report = await worker(desk, relay(controller), Clock(T0)).run_once()
    assert report.failed == 1
    (row,) = [i for i in outbox(desk) if i.channel == "mail"]
    assert row.state == "failed"
    assert row.last_error == "550 5.1.1 <jan.jansen@example.nl>: Recipient address rejected"
    with desk.transaction() as session:
        case = session.get(Case, item.case_id)
        events = session.exec(select(AuditEvent.action).where(AuditEvent.case_id == item.case_id))
        assert case is not None and "undeliverable" in case.flags
        assert "mail_failed" in list(events)
    assert recorder.received == []


async def test_refused_connection_is_temporary(desk: Desk, tmp_path: Path) -> None:
    one_ack(desk)
    report = await worker(desk, SmtpRelay("smtp://127.0.0.1:1", timeout=2), Clock(T0)).run_once()
    assert report.retried == 1
    (row,) = [i for i in outbox(desk) if i.channel == "mail"]
    assert row.state == "pending"
    assert "relay unreachable" in row.last_error


EAI_REQUEST = REQUEST.replace(
    b"From: Jan Jansen <jan.jansen@example.nl>", "From: Jörg Maß <jörg@example.de>".encode()
).replace(b"<req-1@example.nl>", b"<req-eai@example.de>")


def eai_sink(*, smtputf8: bool) -> tuple[Sink, Controller]:
    recorder = Sink()
    controller = LoopbackController(
        recorder, hostname="127.0.0.1", port=0, enable_SMTPUTF8=smtputf8
    )
    return recorder, controller


async def test_an_eai_address_is_sent_with_smtputf8_when_the_relay_offers_it(desk: Desk) -> None:
    one_ack(desk, EAI_REQUEST)
    recorder, controller = eai_sink(smtputf8=True)
    controller.start()
    try:
        report = await worker(desk, relay(controller), Clock(T0)).run_once()
    finally:
        controller.stop()
    assert report.sent == 1
    ((_, rcpt_tos, content),) = recorder.received
    assert rcpt_tos == ["jörg@example.de"]
    assert "\nTo: jörg@example.de\n".encode() in content.replace(b"\r\n", b"\n")
    assert message_from_bytes(content, policy=policy.default)["To"] == "jörg@example.de"


async def test_an_eai_address_without_smtputf8_fails_with_a_reason_the_desk_sees(
    desk: Desk,
) -> None:
    item = one_ack(desk, EAI_REQUEST)
    recorder, controller = eai_sink(smtputf8=False)
    controller.start()
    try:
        report = await worker(desk, relay(controller), Clock(T0)).run_once()
    finally:
        controller.stop()
    assert (report.failed, report.retried, recorder.received) == (1, 0, [])
    (row,) = [i for i in outbox(desk) if i.channel == "mail"]
    assert row.state == "failed"
    assert "does not offer SMTPUTF8" in row.last_error
    assert "jörg" not in row.last_error
    with desk.transaction() as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "mail_failed")).all()
    assert event.details["reason"] == row.last_error
    assert "biedt geen SMTPUTF8" in row.last_error  # the desk reads it in Dutch too
    with desk.transaction() as session:  # what `dsr cases show` and `/dsr show` print
        case = session.get(Case, item.case_id)
        assert case is not None and "undeliverable" in case.flags
        detail = case_detail(case, session=session, now=T0, tz=desk.settings.tz)
    assert any(e["details"].get("reason") == row.last_error for e in detail["events"])
    _, blocks = build_case_detail(detail)
    assert "does not offer SMTPUTF8" in json.dumps(blocks)


def test_backoff_doubles_to_an_hour_with_ten_percent_jitter() -> None:
    assert retry_delay(1, jitter=0.5) == timedelta(minutes=1)
    assert retry_delay(2, jitter=0.5) == timedelta(minutes=2)
    assert retry_delay(7, jitter=0.5) == timedelta(hours=1)
    assert retry_delay(50, jitter=0.5) == timedelta(hours=1)
    assert retry_delay(1, jitter=0.0) == timedelta(seconds=54)
    assert retry_delay(7, jitter=0.999) < timedelta(minutes=66)


class AlwaysLater:
    def __init__(self) -> None:
        self.calls = 0

    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        self.calls += 1
        raise TemporaryDeliveryError("451 4.3.0 mailbox busy")


async def test_temporary_failures_are_retried_for_a_day_before_failing(desk: Desk) -> None:
    one_ack(desk)
    clock, transport = Clock(T0), AlwaysLater()
    the_worker = worker(desk, transport, clock)
    while True:
        await the_worker.run_once()
        (row,) = [i for i in outbox(desk) if i.channel == "mail"]
        if row.state != "pending":
            break
        clock.now = row.next_attempt_at
    assert row.state == "failed"
    assert clock.now - T0 >= timedelta(hours=24)
    assert retried_for(row.attempts) >= timedelta(hours=24)
    assert row.last_error.startswith(f"gave up after {row.attempts} tries: 451")
    assert transport.calls == row.attempts


class Broken:
    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        raise PermanentDeliveryError("554 5.7.1 rejected by policy")


async def test_permanent_error_from_any_transport_is_final(desk: Desk) -> None:
    one_ack(desk)
    report = await worker(desk, Broken(), Clock(T0)).run_once()
    assert report.failed == 1
    assert [i.state for i in outbox(desk) if i.channel == "mail"] == ["failed"]


def add_rows(desk: Desk, count: int) -> None:
    with desk.transaction() as session:
        for n in range(count):
            raw = f"From: a@b\nTo: p{n}@example.nl\nSubject: {n}\n\nhello {n}\n".encode()
            session.add(
                OutboxItem(
                    channel="mail",
                    kind="auto.ack",
                    dedupe_key=f"test:{n}",
                    recipient=f"p{n}@example.nl",
                    message_id=f"<m{n}@dsr.proambt.nl>",
                    payload=raw,
                    created_at=T0,
                    next_attempt_at=T0,
                )
            )


async def test_maildir_delivery_writes_one_file_per_item_into_new(
    desk: Desk, tmp_path: Path
) -> None:
    add_rows(desk, 3)
    root = tmp_path / "maildir"
    report = await worker(desk, MaildirTransport(root), Clock(T0)).run_once()
    assert report.sent == 3
    files = sorted((root / "new").iterdir())
    assert len(files) == 3
    assert list((root / "tmp").iterdir()) == []
    bodies = sorted(f.read_bytes() for f in files)
    assert bodies[0].startswith(b"Delivered-To: p0@example.nl\nFrom: a@b")
    assert {i.state for i in outbox(desk)} == {"sent"}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        await asyncio.sleep(0)  # let the other worker run in between
        self.sent.append(recipient)


async def test_two_workers_together_deliver_every_row_once(desk: Desk) -> None:
    add_rows(desk, 30)
    transport = Recorder()
    workers = [worker(desk, transport, Clock(T0), batch=4) for _ in range(2)]
    await asyncio.gather(*(w.run_once() for w in workers))
    assert sorted(transport.sent) == sorted(f"p{n}@example.nl" for n in range(30))


def test_concurrent_claims_on_postgresql_skip_each_others_rows(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    desk = Desk(settings=make_settings(postgres_url, tmp_path), engine=engine)
    add_rows(desk, 10)
    first_claimed, second_done = threading.Event(), threading.Event()
    claims: dict[str, list[int]] = {}

    def first() -> None:
        with desk.transaction() as session:  # holds its row locks until the second is done
            items = claim_due(
                session=session, channel="mail", now=T0, limit=6, lease=timedelta(minutes=5)
            )
            claims["first"] = [int(i.id or 0) for i in items]
            first_claimed.set()
            assert second_done.wait(10)

    def second() -> None:
        assert first_claimed.wait(10)
        with desk.transaction() as session:
            items = claim_due(
                session=session, channel="mail", now=T0, limit=10, lease=timedelta(minutes=5)
            )
            claims["second"] = [int(i.id or 0) for i in items]
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    engine.dispose()
    assert len(claims["first"]) == 6
    assert len(claims["second"]) == 4
    assert not set(claims["first"]) & set(claims["second"])

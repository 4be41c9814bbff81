"""Relay outage: the relay's port is closed, then it answers 421, then it recovers.

Time is an injected clock moved to the next due row; the sink is aiosmtpd on loopback (the
helpers of tests/handlers/test_delivery.py). Every mail arrives once, in order per case.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from email import message_from_bytes, policy

from sqlmodel import col, select

from bot.desk import Desk
from bot.intake import process_message
from handlers.mail.delivery import SmtpRelay
from storage.models import OutboxItem
from tests.factories import T0
from tests.faults.child import free_port
from tests.handlers.test_delivery import Clock, LoopbackController, Sink, worker
from tests.mailbuilder import build_mail

CASES = 6
MAX_ROUNDS = 200


def pending(desk: Desk) -> list[OutboxItem]:
    with desk.transaction() as session:
        return list(
            session.exec(
                select(OutboxItem)
                .where(OutboxItem.channel == "mail")
                .where(col(OutboxItem.state).in_(["pending", "sending"]))
            ).all()
        )


def rows(desk: Desk) -> list[OutboxItem]:
    with desk.transaction() as session:
        return list(
            session.exec(
                select(OutboxItem).where(OutboxItem.channel == "mail").order_by(col(OutboxItem.id))
            ).all()
        )


async def test_outage_then_recovery_delivers_each_mail_once_in_order_per_case(
    desk: Desk,
) -> None:
    clock = Clock(T0)
    port = free_port()
    the_worker = worker(desk, SmtpRelay(f"smtp://127.0.0.1:{port}", timeout=5), clock)
    for n in range(CASES):
        request = build_mail(sender=f"Persoon {n} <p{n}@example.nl>")
        assert process_message(desk, request, now=T0, source="test").action == "created"
    rounds, closed_failures = 0, 0
    # Phase 1 (port closed): a few rounds; meanwhile every requester asks for a new code.
    for n in range(CASES):
        report = await the_worker.run_once()
        closed_failures += report.retried
        clock.now += timedelta(seconds=20)
        ack = next(r for r in rows(desk) if r.recipient == f"p{n}@example.nl")
        again = build_mail(
            sender=f"Persoon {n} <p{n}@example.nl>",
            subject="Re: code",
            body="Ik heb niets ontvangen, kunt u mij een nieuwe code sturen?",
            in_reply_to=ack.message_id,
        )
        result = process_message(desk, again, now=clock.now, source="test")
        assert result.action == "threaded"
        rounds += 1
    sink = Sink(refusals=["421 4.3.2 Service not available, closing channel"] * 5)
    controller = LoopbackController(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while (due := pending(desk)) and rounds < MAX_ROUNDS:
            report = await the_worker.run_once()
            rounds += 1
            if report.sent == report.retried == report.failed == 0:  # nothing due: wait
                clock.now = min(r.next_attempt_at for r in due if r.next_attempt_at > clock.now)
    finally:
        controller.stop()
    assert pending(desk) == []
    queued = rows(desk)
    by_id = {r.message_id: r for r in queued}
    received = [
        message_from_bytes(content, policy=policy.default)["Message-ID"]
        for _, _, content in sink.received
    ]
    per_case: dict[int | None, list[int]] = defaultdict(list)
    for message_id in received:
        per_case[by_id[message_id].case_id].append(int(by_id[message_id].id or 0))
    out_of_order = [case for case, ids in per_case.items() if ids != sorted(ids)]
    doubled = {m: n for m, n in Counter(received).items() if n > 1}
    print(
        f"\nrelay outage: {len(queued)} mails for {CASES} cases; {closed_failures} tries on a "
        f"closed port, {sink.attempts - len(sink.received)} answered 421, then delivered "
        f"{len(received)} over {rounds} worker rounds and "
        f"{(clock.now - T0).total_seconds() / 60:.0f} simulated minutes; duplicates "
        f"{len(doubled)}, missing {len(set(by_id) - set(received))}, cases out of order "
        f"{len(out_of_order)}; most tries for one mail {max(r.attempts for r in queued)}"
    )
    assert {r.state for r in queued} == {"sent"}
    assert doubled == {}
    assert sorted(received) == sorted(by_id)
    assert out_of_order == []

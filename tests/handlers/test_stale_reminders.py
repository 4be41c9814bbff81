"""A reminder queued for a case that then changed is dropped at delivery, never sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.sweep import run_sweep
from handlers.mail.delivery import OutboxWorker
from storage.models import OutboxItem
from tests.factories import new_case


class Recorder:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        self.sent.append(raw)

    def describe(self) -> str:
        return "recorder"


async def drain(worker: OutboxWorker) -> None:
    """Run the worker as its loop would, until a round delivers nothing (bounded)."""
    for _ in range(10):
        if (await worker.run_once()).sent == 0:
            return


def _reminders(desk: Desk) -> list[OutboxItem]:
    with desk.transaction() as session:
        rows = session.exec(select(OutboxItem).where(OutboxItem.channel == "mail")).all()
    return [r for r in rows if r.dedupe_key.startswith("reminder:")]


async def test_reminder_for_a_case_closed_after_queueing_is_dropped(desk: Desk) -> None:
    case = new_case(desk)  # received 2 March 2026, due 2 April
    seven_days_before = datetime(2026, 3, 26, 8, 0, tzinfo=UTC)
    run_sweep(desk, now=seven_days_before)
    queued = _reminders(desk)
    assert queued, "the sweep queued a T-7 reminder to the secretariat"
    core.close(
        desk,
        reference=case.reference,
        outcome="withdrawn",
        note="n",
        actor="t",
        now=seven_days_before + timedelta(minutes=1),
    )
    recorder = Recorder()
    await OutboxWorker(
        desk, recorder, clock=lambda: seven_days_before + timedelta(minutes=2), jitter=lambda: 0.5
    ).run_once()
    with desk.transaction() as session:
        others = [
            r
            for r in session.exec(select(OutboxItem)).all()
            if r.channel == "mail" and not r.dedupe_key.startswith("reminder:")
        ]
    assert len(recorder.sent) == len(others)  # the digest and the withdrawal, no reminder
    assert {r.state for r in _reminders(desk)} == {"dropped"}


async def test_reminder_for_an_unchanged_case_is_sent(desk: Desk) -> None:
    new_case(desk)
    moment = datetime(2026, 3, 26, 8, 0, tzinfo=UTC)
    run_sweep(desk, now=moment)
    recorder = Recorder()
    await drain(OutboxWorker(desk, recorder, clock=lambda: moment, jitter=lambda: 0.5))
    assert {r.state for r in _reminders(desk)} == {"sent"}

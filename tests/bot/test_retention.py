"""Retention purge and the register of requests (both databases)."""

from datetime import timedelta

from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from bot.retention import purge, register_rows
from storage.models import Case, IdentityCheck, Message, OutboxItem
from tests.factories import T0
from tests.mailbuilder import build_mail

CLOSED_AT = T0 + timedelta(days=3)


def _closed_case(desk: Desk) -> str:
    result = process_message(desk, build_mail(), now=T0, source="test")
    assert result.case
    core.close(
        desk, reference=result.case, outcome="withdrawn", note="by phone", actor="t", now=CLOSED_AT
    )
    return result.case


def test_nothing_is_purged_before_the_retention_period(desk: Desk) -> None:
    _closed_case(desk)
    report = purge(desk, now=CLOSED_AT + timedelta(days=729))
    assert report.cases == ()


def test_purge_strips_content_and_keeps_an_anonymous_line(desk: Desk) -> None:
    reference = _closed_case(desk)
    process_message(
        desk, build_mail(subject="Afspraak", body="Zullen we bellen?"), now=T0, source="test"
    )
    later = CLOSED_AT + timedelta(days=731)
    assert purge(desk, now=later, dry_run=True).cases == (reference,)
    with desk.transaction() as session:
        assert all(m.raw for m in session.exec(select(Message)).all())
    report = purge(desk, now=later)
    assert report.cases == (reference,) and report.loose_messages == 1
    with desk.transaction() as session:
        case = session.exec(select(Case)).one()
        assert case.requester == "" and "purged" in case.flags
        assert all(m.raw == b"" and m.subject == "" for m in session.exec(select(Message)))
        assert all(o.payload == b"" for o in session.exec(select(OutboxItem)))
        assert session.exec(select(IdentityCheck)).first() is None
    row = next(register_rows(desk))
    assert row["reference"] == reference and row["outcome"] == "withdrawn"
    assert purge(desk, now=later).cases == ()


def test_register_says_whether_each_request_was_answered_on_time(desk: Desk) -> None:
    reference = _closed_case(desk)
    result = process_message(
        desk, build_mail(body="Please delete all my data."), now=T0, source="test"
    )
    rows = {r["reference"]: r for r in register_rows(desk)}
    assert rows[reference]["on_time"] == "yes" and rows[reference]["answered"] == "2026-03-05"
    assert rows[result.case or ""]["on_time"] == "" and rows[result.case or ""]["outcome"] == ""


async def test_the_scheduled_purge_runs_once_per_local_day(desk: Desk) -> None:
    from bot.retention import scheduled_purge

    moments = [CLOSED_AT + timedelta(days=731)]
    run = scheduled_purge(desk, clock=lambda: moments[0])
    first = _closed_case(desk)
    await run()
    second = _closed_case(desk)
    moments[0] += timedelta(hours=1)
    await run()

    def purged() -> set[str]:
        with desk.transaction() as session:
            return {c.reference for c in session.exec(select(Case)) if "purged" in c.flags}

    assert purged() == {first}
    moments[0] += timedelta(days=1)
    await run()
    assert purged() == {first, second}

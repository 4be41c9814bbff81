"""Retention purge and the register of requests (both databases)."""

import os
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from bot.retention import purge, register_rows
from handlers.mail.maildir import old_mail_remover, write_maildir
from storage.audit import iter_events, verify_chain
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


def test_purge_clears_audit_notes_and_keeps_event_actor_and_time(desk: Desk) -> None:
    reference = _closed_case(desk)
    with desk.transaction() as session:
        before = [(e.action, e.actor, e.at) for e in iter_events(session=session)]
        assert any(e.note == "by phone" for e in iter_events(session=session))
    purge(desk, now=CLOSED_AT + timedelta(days=731))
    with desk.transaction() as session:
        events = [e for e in iter_events(session=session) if e.reference == reference]
        assert [(e.action, e.actor, e.at) for e in events][: len(before)] == before
        assert all(e.note is None for e in events)
        assert verify_chain(session=session)[1] is None


def test_purge_removes_sent_mail_copies_older_than_the_retention_period(
    desk: Desk, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    old = write_maildir(outbox, b"Message-ID: <old@x>\n\nJan Jansen, code 123456\n")
    fresh = write_maildir(outbox, b"Message-ID: <new@x>\n\nrecent\n")
    now = CLOSED_AT + timedelta(days=731)
    long_ago = (now - timedelta(days=800)).timestamp()
    os.utime(old, (long_ago, long_ago))
    for marker in (outbox / "dsr-delivered").iterdir():
        if marker.read_text() == old.name:
            os.utime(marker, (long_ago, long_ago))
    remover = old_mail_remover(outbox)
    assert purge(desk, now=now, dry_run=True, old_files=remover).files == 1
    assert old.exists()
    assert purge(desk, now=now, old_files=remover).files == 1
    assert not old.exists() and fresh.exists()
    assert len(list((outbox / "dsr-delivered").iterdir())) == 1


def test_purge_clears_the_words_and_note_of_an_old_review_item(desk: Desk) -> None:
    from bot.review import dismiss_review
    from storage.models import ReviewItem
    from tests.factories import new_review_item

    item_id = new_review_item(desk)
    dismiss_review(desk, item_id=item_id, note="Herman belde: geen verzoek", actor="t", now=T0)
    purge(desk, now=T0 + timedelta(days=731))
    with desk.transaction() as session:
        item = session.get(ReviewItem, item_id)
    assert item is not None and item.evidence == [] and item.note is None
    assert item.state == "dismissed"  # the decision itself stays

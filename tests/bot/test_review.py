"""The review route on SQLite and PostgreSQL: a mail that might be a request waits with no
case and nothing sent; a person opens a case (clock from the mail's receipt, acknowledgement
only then) or dismisses it (nothing sent); late items reach the digest and are reminded once
per working day."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot import review as core
from bot.categories import UnknownKind
from bot.desk import Desk
from bot.digest import build_digest, digest_context, digest_text
from bot.intake import process_message
from bot.sweep import run_sweep
from bot.templates import render_mail
from handlers.runtime import build_desk
from storage.models import AuditEvent, Case, Message, OutboxItem, ReviewItem
from storage.sealing import generate_key
from tests.factories import T0, make_settings, new_review_item
from tests.mailbuilder import build_mail

AMS = ZoneInfo("Europe/Amsterdam")
SLACK = {"slack_bot_token": "xoxb-test", "slack_app_token": "xapp-test"}
# A complaint about advice, with a complaint phrase: it might be an art. 77-style complaint
# about personal data, or an ordinary one; recognition sends it to a person.
COMPLAINT = (
    "Geachte directie,\n\nHierbij wil ik een klacht indienen over het advies dat ik vorig jaar "
    "van uw kantoor kreeg. Mij werd aangeraden mijn pensioen eerder in te laten gaan, maar nu "
    "blijkt dat ik daardoor jaarlijks ruim 2.000 euro minder ontvang dan ik verwacht had. Dat is "
    "mij nooit goed uitgelegd. Bovendien vind ik de rekening van 1.400 euro voor dit advies veel "
    "te hoog.\n\nIk verzoek u om een gesprek en een gedeeltelijke terugbetaling van de kosten."
    "\n\nMet vriendelijke groet,\nH. Bosman\n"
)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


@pytest.fixture
def slack_desk(desk: Desk, tmp_path: Path) -> Desk:
    settings = make_settings(desk.settings.database_url, tmp_path, **SLACK)
    return Desk(settings=settings, engine=desk.engine)


def outbox(desk: Desk, channel: str | None = None) -> list[OutboxItem]:
    with desk.transaction() as session:
        query = select(OutboxItem).order_by(col(OutboxItem.id))
        if channel:
            query = query.where(OutboxItem.channel == channel)
        return list(session.exec(query).all())


def cases(desk: Desk) -> list[Case]:
    with desk.transaction() as session:
        return list(session.exec(select(Case)).all())


def events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.transaction() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def ingest_review(desk: Desk, *, now: datetime = T0) -> int:
    """The real path: intake stores the mail and leaves a review item; returns its id."""
    raw = build_mail(sender="Herman Bosman <h.bosman@example.nl>", subject="klacht", body=COMPLAINT)
    result = process_message(desk, raw, now=now, source="t")
    if result.action != "review":
        pytest.skip(f"recognition routes the sample to {result.action} now ({result.reason})")
    assert result.case is None and "a person decides" in result.reason
    [item] = core.list_reviews(desk, now=now)
    return item.id


def test_intake_leaves_a_waiting_item_and_sends_nothing(slack_desk: Desk) -> None:
    item_id = ingest_review(slack_desk)
    [view] = core.list_reviews(slack_desk, now=T0 + timedelta(days=1))
    assert view.state == "waiting" and view.sender == "h***@example.nl"
    assert view.suggested_kind == "complaint" and view.case is None
    assert cases(slack_desk) == [] and outbox(slack_desk, "mail") == []
    [post] = outbox(slack_desk, "slack")
    assert post.kind == "review_posted" and post.case_id is None
    assert json.loads(post.payload) == {"reference": None, "review": item_id}
    with slack_desk.transaction() as session:
        [stored] = session.exec(select(Message).where(Message.direction == "in")).all()
    assert stored.action == "review" and stored.case_id is None


def test_evidence_and_note_are_sealed_at_rest(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        db_url, tmp_path, encryption_key=generate_key(), db_auto_upgrade="true"
    )
    desk = build_desk(settings)
    item_id = new_review_item(desk)
    core.dismiss_review(desk, item_id=item_id, note="vraag over advies", actor="t", now=T0)
    with desk.engine.connect() as connection:
        evidence, note = connection.exec_driver_sql("SELECT evidence, note FROM review_item").one()
    assert "klacht" not in evidence and "advies" not in note
    [view] = core.list_reviews(desk, now=T0, include_decided=True)
    assert view.sender == "h***@example.nl"
    desk.engine.dispose()


def test_opening_starts_the_clock_at_receipt_and_acknowledges_only_then(
    slack_desk: Desk,
) -> None:
    received = at(date(2026, 3, 2), 10, 30)  # Monday 2 March 2026
    item_id = ingest_review(slack_desk, now=received)
    assert outbox(slack_desk, "mail") == []
    later = at(date(2026, 3, 5), 14)  # three days on
    decision = core.open_review(
        slack_desk, item_id=item_id, kind=None, actor="slack:UDESK", now=later
    )
    assert decision.state == "opened" and decision.reference == "DSR-2026-0001"
    [case] = cases(slack_desk)
    assert case.category == "complaint" and not case.needs_triage
    assert case.received_at == received and case.due == date(2026, 4, 2)
    mails = outbox(slack_desk, "mail")
    assert [m.kind.removeprefix("auto.") for m in mails] == ["ack", "identity_code"]
    assert all(m.created_at == later and m.case_id == case.id for m in mails)
    assert "2 maart 2026" in mails[0].payload.decode("utf-8", "replace")
    with slack_desk.transaction() as session:
        stored = session.exec(select(Message).where(Message.direction == "in")).one()
        item = session.get(ReviewItem, item_id)
    assert stored.case_id == case.id
    assert item is not None and item.case_id == case.id and item.decided_by == "slack:UDESK"
    [event] = events(slack_desk, "review_opened")
    assert event.actor == "slack:UDESK" and event.reference == case.reference
    kinds = [o.kind for o in outbox(slack_desk, "slack")]
    assert kinds == ["review_posted", "case_posted", "review_updated"]


def test_opening_with_a_chosen_kind_and_refusals(desk: Desk) -> None:
    item_id = new_review_item(desk)
    with pytest.raises(UnknownKind):
        core.open_review(desk, item_id=item_id, kind="klachtje", actor="t", now=T0)
    with pytest.raises(core.UnknownReview, match="unknown review item 99"):
        core.open_review(desk, item_id=99, kind=None, actor="t", now=T0)
    decision = core.open_review(desk, item_id=item_id, kind="access", actor="cli:piet", now=T0)
    [case] = cases(desk)
    assert case.category == "access" and case.also == ["complaint"]
    assert decision.reference == case.reference
    with pytest.raises(core.ReviewRefused, match=f"already opened as {case.reference}"):
        core.open_review(desk, item_id=item_id, kind=None, actor="t", now=T0)
    with pytest.raises(core.ReviewRefused, match="already opened"):
        core.dismiss_review(desk, item_id=item_id, note=None, actor="t", now=T0)
    assert len(cases(desk)) == 1


def test_an_item_without_a_suggested_kind_needs_one(desk: Desk) -> None:
    item_id = new_review_item(desk, category="other", also=())
    with pytest.raises(core.ReviewRefused, match="choose one"):
        core.open_review(desk, item_id=item_id, kind="  ", actor="t", now=T0)
    assert cases(desk) == []


def test_dismissing_sends_nothing_and_keeps_the_note_out_of_the_details(
    slack_desk: Desk,
) -> None:
    item_id = new_review_item(slack_desk)
    decision = core.dismiss_review(
        slack_desk, item_id=item_id, note=" een gewone klacht ", actor="cli:piet", now=T0
    )
    assert decision.state == "dismissed"
    assert cases(slack_desk) == [] and outbox(slack_desk, "mail") == []
    assert [o.kind for o in outbox(slack_desk)] == ["review_updated"]
    [event] = events(slack_desk, "review_dismissed")
    assert event.note == "een gewone klacht" and "klacht" not in json.dumps(event.details)
    with pytest.raises(core.ReviewRefused, match="not a request by cli:piet"):
        core.dismiss_review(slack_desk, item_id=item_id, note=None, actor="t", now=T0)
    assert core.list_reviews(slack_desk, now=T0) == []
    [view] = core.list_reviews(slack_desk, now=T0, include_decided=True)
    assert view.state == "dismissed" and view.decided_by == "cli:piet"


def test_waiting_days_count_working_days_after_receipt(desk: Desk) -> None:
    new_review_item(desk, received_at=at(date(2026, 3, 6), 16))  # a Friday
    days = [
        core.list_reviews(desk, now=at(date(2026, 3, d)))[0].waiting_days for d in (6, 8, 9, 10)
    ]
    assert days == [0, 0, 1, 2]


def test_a_late_item_is_in_the_digest_from_its_second_working_day(desk: Desk) -> None:
    item_id = new_review_item(desk, received_at=at(date(2026, 3, 2), 10, 30))
    assert build_digest(desk, at(date(2026, 3, 3))).empty  # one working day: not yet late
    digest = build_digest(desk, at(date(2026, 3, 4)))
    assert digest.counts()["review_waiting"] == 1 and not digest.empty
    text = digest_text(digest, language="nl")
    assert f"Beoordeling {item_id} (mogelijk klacht), ontvangen maandag 2 maart 2026" in text
    assert "wacht 2 werkdagen" in text and "bosman" not in text
    english = render_mail("digest", language="en", context=digest_context(digest, language="en"))
    assert f"Review {item_id} (possibly complaint)" in english.text
    assert "legal month" in english.text and "bosman" not in english.html
    run_sweep(desk, now=at(date(2026, 3, 4), 9, 30))  # Slack off: the digest is a mail
    [mail] = [o for o in outbox(desk, "mail") if o.kind == "digest"]
    assert f"Beoordeling {item_id}" in mail.payload.decode("utf-8", "replace")
    core.open_review(desk, item_id=item_id, kind=None, actor="t", now=at(date(2026, 3, 4), 11))
    assert "review_waiting" not in build_digest(desk, at(date(2026, 3, 5))).counts()


def test_a_late_item_is_reminded_once_per_working_day(slack_desk: Desk) -> None:
    item_id = new_review_item(slack_desk, received_at=at(date(2026, 3, 5), 10))  # Thursday
    for day in (5, 6, 7, 8, 9, 10):  # Thu .. Tue; the weekend in between
        for hour in (8, 13, 17):
            run_sweep(slack_desk, now=at(date(2026, 3, day), hour))
    reminders = [o for o in outbox(slack_desk, "slack") if o.kind == "review_reminder"]
    assert [o.dedupe_key for o in reminders] == [
        f"review:reminder:{item_id}:2026-03-09",
        f"review:reminder:{item_id}:2026-03-10",
    ]
    assert json.loads(reminders[-1].payload)["waiting_days"] == 3
    core.dismiss_review(
        slack_desk, item_id=item_id, note=None, actor="t", now=at(date(2026, 3, 10), 18)
    )
    report = run_sweep(slack_desk, now=at(date(2026, 3, 11), 8))
    assert report.review_reminders == 0


def test_a_restarted_instance_does_not_remind_twice(slack_desk: Desk, tmp_path: Path) -> None:
    new_review_item(slack_desk, received_at=at(date(2026, 3, 2), 10))
    early = run_sweep(slack_desk, now=at(date(2026, 3, 4), 8, 55))  # before DSR_DIGEST_TIME
    first = run_sweep(slack_desk, now=at(date(2026, 3, 4), 9))
    again = Desk(settings=slack_desk.settings, engine=slack_desk.engine)  # a fresh process
    second = run_sweep(again, now=at(date(2026, 3, 4), 9, 5))
    assert (early.review_reminders, first.review_reminders, second.review_reminders) == (0, 1, 0)
    dry = run_sweep(again, now=at(date(2026, 3, 5), 9), dry_run=True)
    assert dry.review_reminders == 1
    kinds = [o.kind for o in outbox(slack_desk, "slack")]
    assert kinds.count("review_reminder") == 1


def test_two_people_opening_at_once_make_one_case(desk: Desk) -> None:
    item_id = new_review_item(desk)

    def attempt(actor: str) -> str:
        try:
            return core.open_review(desk, item_id=item_id, kind=None, actor=actor, now=T0).state
        except core.ReviewRefused:
            return "refused"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(attempt, [f"cli:p{n}" for n in range(4)]))
    assert outcomes == ["opened", "refused", "refused", "refused"]
    assert len(cases(desk)) == 1
    assert len([o for o in outbox(desk, "mail") if o.kind.endswith("ack")]) == 1

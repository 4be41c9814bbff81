"""The reminder sweep on SQLite and PostgreSQL, with a fake clock moved through case lives."""

from __future__ import annotations

import email
import email.message
import email.policy
import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot import cases as core
from bot.desk import Desk
from bot.digest import build_digest, extension_stats
from bot.reminders import reminder_still_wanted
from bot.sweep import SweepReport, run_sweep
from storage.engine import make_engine
from storage.models import Case, OutboxItem, ReminderSent
from tests.factories import T0, make_settings, new_case

AMS = ZoneInfo("Europe/Amsterdam")
SLACK = {"slack_bot_token": "xoxb-test", "slack_app_token": "xapp-test"}


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMS)


def days(first: date, last: date) -> Iterable[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


@pytest.fixture
def slack_desk(desk: Desk, tmp_path: Path) -> Desk:
    settings = make_settings(desk.settings.database_url, tmp_path, **SLACK)
    return Desk(settings=settings, engine=desk.engine)


def sweep_days(desk: Desk, first: date, last: date, hours: Iterable[int] = (8, 15)) -> None:
    for day in days(first, last):
        for hour in hours:
            run_sweep(desk, now=at(day, hour))


def steps(desk: Desk, reference: str | None = None) -> list[tuple[str, date]]:
    with desk.transaction() as session:
        statement = select(ReminderSent, Case).where(ReminderSent.case_id == Case.id)
        if reference:
            statement = statement.where(Case.reference == reference)
        rows = session.exec(statement.order_by(col(ReminderSent.id))).all()
        return [(sent.step, sent.due) for sent, _ in rows]


def outbox(desk: Desk, kind: str) -> list[OutboxItem]:
    with desk.transaction() as session:
        found = select(OutboxItem).where(OutboxItem.kind == kind).order_by(col(OutboxItem.id))
        return list(session.exec(found).all())


def payload(item: OutboxItem) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(item.payload)
    return value


def mail_of(desk: Desk, item: OutboxItem) -> email.message.EmailMessage:
    """The queued mail, whether the payload column or queue_mail sealed it."""
    raw = item.payload if b"Subject:" in item.payload[:8192] else desk.sealer.open(item.payload)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def verified_and_assigned(desk: Desk) -> Case:
    case = new_case(desk)
    core.verify_by_hand(
        desk, reference=case.reference, note="paspoort", actor="test", now=T0 + timedelta(days=1)
    )
    return core.assign(
        desk, reference=case.reference, assignee="slack:U1", actor="test", now=T0 + timedelta(1)
    )


APRIL_2 = date(2026, 4, 2)


def test_a_case_overdue_for_a_week_gets_each_reminder_once_and_none_after_closing(
    slack_desk: Desk,
) -> None:
    case = verified_and_assigned(slack_desk)
    sweep_days(slack_desk, date(2026, 3, 2), date(2026, 4, 10))
    expected = [
        ("t-7", APRIL_2),
        ("t-3wd", APRIL_2),
        ("due", APRIL_2),
        ("overdue-2026-04-03", APRIL_2),
        ("overdue-2026-04-07", APRIL_2),  # 4-5 weekend, 6 Easter Monday
        ("overdue-2026-04-08", APRIL_2),
        ("overdue-2026-04-09", APRIL_2),
        ("overdue-2026-04-10", APRIL_2),
    ]
    assert steps(slack_desk) == expected
    rows = outbox(slack_desk, "reminder")
    assert [payload(r)["step"] for r in rows] == [name for name, _ in expected]
    assert all(payload(r)["dm_user"] == "slack:U1" for r in rows)
    assert "1 dag te laat" in payload(rows[3])["text"]
    core.close(
        slack_desk,
        reference=case.reference,
        outcome="done",
        note="ok",
        actor="t",
        now=at(date(2026, 4, 11)),
    )
    sweep_days(slack_desk, date(2026, 4, 11), date(2026, 4, 24))
    assert len(steps(slack_desk)) == len(expected)
    closed = core.get_case(slack_desk, reference=case.reference)
    assert not any(reminder_still_wanted(closed, payload(r)) for r in rows)


def test_an_extension_moves_the_ladder_and_drops_what_was_queued_for_the_old_date(
    slack_desk: Desk,
) -> None:
    case = verified_and_assigned(slack_desk)
    sweep_days(slack_desk, date(2026, 3, 2), date(2026, 3, 26))
    core.extend(
        slack_desk,
        reference=case.reference,
        reasons="veel gegevens",
        actor="t",
        now=at(date(2026, 3, 27)),
    )
    sweep_days(slack_desk, date(2026, 3, 27), date(2026, 6, 2), hours=(8,))
    core.close(
        slack_desk,
        reference=case.reference,
        outcome="done",
        note="ok",
        actor="t",
        now=at(date(2026, 6, 2), 16),
    )
    sweep_days(slack_desk, date(2026, 6, 2), date(2026, 6, 12))
    june_2 = date(2026, 6, 2)
    assert steps(slack_desk) == [("t-7", APRIL_2), ("t-3wd", june_2), ("due", june_2)]
    rows = outbox(slack_desk, "reminder")
    extended = core.get_case(slack_desk, reference=case.reference)
    assert extended.state == "done"
    assert [payload(r)["due"] for r in rows] == ["2026-04-02", "2026-06-02", "2026-06-02"]


def test_the_old_reminder_is_unwanted_right_after_the_extension(slack_desk: Desk) -> None:
    case = verified_and_assigned(slack_desk)
    run_sweep(slack_desk, now=at(date(2026, 3, 26)))
    (row,) = outbox(slack_desk, "reminder")
    assert reminder_still_wanted(core.get_case(slack_desk, reference=case.reference), payload(row))
    core.extend(
        slack_desk, reference=case.reference, reasons="r", actor="t", now=at(date(2026, 3, 26))
    )
    assert not reminder_still_wanted(
        core.get_case(slack_desk, reference=case.reference), payload(row)
    )


def test_a_week_of_downtime_gives_one_catch_up(slack_desk: Desk) -> None:
    verified_and_assigned(slack_desk)
    run_sweep(slack_desk, now=at(date(2026, 3, 26)))
    run_sweep(slack_desk, now=at(date(2026, 4, 9)))
    run_sweep(slack_desk, now=at(date(2026, 4, 9), 16))
    assert steps(slack_desk) == [("t-7", APRIL_2), ("overdue-2026-04-09", APRIL_2)]


def test_a_clock_that_jumps_back_sends_nothing_twice(slack_desk: Desk) -> None:
    verified_and_assigned(slack_desk)
    run_sweep(slack_desk, now=at(APRIL_2))
    for day in (date(2026, 3, 30), date(2026, 3, 26), APRIL_2):
        assert run_sweep(slack_desk, now=at(day)).reminders == []
    assert steps(slack_desk) == [("due", APRIL_2)]


def test_a_restart_on_the_same_database_sends_nothing_twice(desk: Desk, tmp_path: Path) -> None:
    verified_and_assigned(desk)
    run_sweep(desk, now=at(date(2026, 3, 26)))
    url = desk.settings.database_url
    engine = make_engine(url)
    try:
        again = Desk(settings=make_settings(url, tmp_path), engine=engine)
        assert run_sweep(again, now=at(date(2026, 3, 26), 11)).reminders == []
        assert [q.step for q in run_sweep(again, now=at(date(2026, 3, 30))).reminders] == ["t-3wd"]
    finally:
        engine.dispose()
    assert [name for name, _ in steps(desk)] == ["t-7", "t-3wd"]


def test_a_sweep_that_crashes_half_way_is_redone_without_doubles(
    slack_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        verified_and_assigned(slack_desk)
    import bot.sweep

    real = bot.sweep.reminder_text
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> str:
        calls.append(1)
        if len(calls) == 2:  # the steps are recorded, the second row is being built
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.sweep, "reminder_text", flaky)
    with pytest.raises(RuntimeError):
        run_sweep(slack_desk, now=at(date(2026, 3, 26)))
    assert steps(slack_desk) == [] and outbox(slack_desk, "reminder") == []
    monkeypatch.setattr(bot.sweep, "reminder_text", real)
    run_sweep(slack_desk, now=at(date(2026, 3, 26)))
    run_sweep(slack_desk, now=at(date(2026, 3, 26), 12))
    assert len(steps(slack_desk)) == 3 and len(outbox(slack_desk, "reminder")) == 3


def test_a_dry_run_reports_and_records_nothing(slack_desk: Desk) -> None:
    verified_and_assigned(slack_desk)
    with slack_desk.transaction() as session:
        before = len(session.exec(select(OutboxItem)).all())
    report = run_sweep(slack_desk, now=at(date(2026, 3, 26)), dry_run=True)
    assert [(q.step, q.channel) for q in report.reminders] == [("t-7", "slack")]
    assert report.digest is not None and report.digest["due_this_week"] == 1
    assert steps(slack_desk) == []
    with slack_desk.transaction() as session:
        assert len(session.exec(select(OutboxItem)).all()) == before


def test_without_slack_the_secretariat_gets_a_dutch_mail(desk: Desk) -> None:
    verified_and_assigned(desk)
    report = run_sweep(desk, now=at(date(2026, 3, 30)))
    assert [(q.step, q.channel) for q in report.reminders] == [("t-3wd", "mail")]
    (item,) = outbox(desk, "reminder_secretariat")
    assert item.recipient == desk.settings.alert_address
    assert item.dedupe_key.startswith("reminder:deadline:")
    mail = mail_of(desk, item)
    assert mail["Subject"].startswith("[DSR-2026-0001] Herinnering: inzage")
    text = mail.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "Volgende stap" in body and "nog 3 dagen" in body


def test_identity_one_reminder_to_the_requester_then_one_question(slack_desk: Desk) -> None:
    case = new_case(slack_desk, language="en")
    sweep_days(slack_desk, date(2026, 3, 2), date(2026, 3, 20))
    assert [name for name, _ in steps(slack_desk)] == ["identity-reminder", "identity-give-up"]
    (mail_item,) = outbox(slack_desk, "auto.identity_reminder")
    assert mail_item.recipient == case.requester
    mail = mail_of(slack_desk, mail_item)
    assert mail["Subject"] == "[DSR-2026-0001] Reminder: please confirm your identity"
    (question,) = [r for r in outbox(slack_desk, "reminder") if payload(r)["purpose"] == "identity"]
    assert "/dsr close DSR-2026-0001 refused" in payload(question)["text"]
    core.verify_by_hand(
        slack_desk, reference=case.reference, note="n", actor="t", now=at(date(2026, 3, 21))
    )
    verified = core.get_case(slack_desk, reference=case.reference)
    assert not reminder_still_wanted(verified, payload(question))


def test_no_identity_reminder_once_verified_or_without_a_reply_address(desk: Desk) -> None:
    verified_and_assigned(desk)
    with desk.transaction() as session:
        flagged = new_case(desk, requester="noreply@forms.example")
        row = session.get(Case, flagged.id)
        assert row is not None
        row.flags = ["no_reply_address"]
        session.add(row)
    sweep_days(desk, date(2026, 3, 2), date(2026, 3, 13), hours=(8,))
    assert steps(desk) == []
    assert outbox(desk, "auto.identity_reminder") == []


def test_the_digest_goes_once_on_a_working_day_and_not_when_there_is_nothing(
    slack_desk: Desk,
) -> None:
    monday = date(2026, 3, 2)
    assert run_sweep(slack_desk, now=at(monday, 9, 30)).digest is None  # no cases at all
    new_case(slack_desk, needs_triage=True, received_at=at(monday, 9, 40))
    assert run_sweep(slack_desk, now=at(date(2026, 3, 3), 8, 55)).digest is None  # before 9:00
    first = run_sweep(slack_desk, now=at(date(2026, 3, 3), 9, 5))
    assert first.digest == {
        "overdue": 0,
        "due_this_week": 0,
        "awaiting_identity": 1,
        "needs_triage": 1,
        "unassigned": 1,
    }
    assert run_sweep(slack_desk, now=at(date(2026, 3, 3), 14)).digest is None
    assert run_sweep(slack_desk, now=at(date(2026, 3, 7), 10)).digest is None  # Saturday
    (row,) = outbox(slack_desk, "digest")
    assert row.case_id is None and row.dedupe_key == "digest:2026-03-03"
    assert "Soort verzoek nog bepalen: 1" in payload(row)["text"]


def test_build_digest_for_stats_and_the_digest_mail_without_slack(desk: Desk) -> None:
    late = new_case(desk, received_at=T0 - timedelta(days=40))
    core.assign(desk, reference=late.reference, assignee="piet", actor="t", now=T0)
    new_case(desk)
    digest = build_digest(desk, at(date(2026, 3, 4)))
    assert digest.counts() == {
        "overdue": 1,
        "due_this_week": 0,
        "awaiting_identity": 2,
        "needs_triage": 0,
        "unassigned": 1,
    }
    overdue = digest.sections[0]
    assert overdue.items[0].reference == late.reference and overdue.items[0].days_left < 0
    run_sweep(desk, now=at(date(2026, 3, 4), 9, 1))
    (item,) = outbox(desk, "digest")
    assert item.case_id is None and item.recipient == desk.settings.alert_address
    mail = mail_of(desk, item)
    assert mail["Subject"].startswith("Dagoverzicht")


def test_extension_stats_counts_and_shares(desk: Desk) -> None:
    assert extension_stats(desk)["share"] == 0.0
    first = new_case(desk)
    new_case(desk)
    core.extend(desk, reference=first.reference, reasons="r", actor="t", now=T0)
    stats = extension_stats(desk)
    assert stats["extended"] == 1 and stats["cases"] == 2 and stats["share"] == 0.5


def test_dsr_reminders_run_dry_run_json(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from handlers.cli import main
    from handlers.cli.common import desk as cli_desk

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", desk.settings.database_url)
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    monkeypatch.setenv("DSR_SMTP_LISTEN", "")
    the_desk = cli_desk()  # sealed the way the command will read it
    verified_and_assigned(the_desk)
    with pytest.raises(SystemExit) as exited:
        main(["reminders", "run", "--now", "2026-03-26T10:00:00+01:00", "--dry-run", "--json"])
    assert exited.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["queued"] == 1
    assert report["reminders"][0]["step"] == "t-7"
    assert steps(the_desk) == []
    with pytest.raises(SystemExit):
        main(["reminders", "run", "--now", "2026-03-26T10:00:00+01:00"])
    assert "1 reminder(s) queued" in capsys.readouterr().out
    assert [name for name, _ in steps(the_desk)] == ["t-7"]
    the_desk.engine.dispose()


def test_the_report_as_json(slack_desk: Desk) -> None:
    verified_and_assigned(slack_desk)
    report: SweepReport = run_sweep(slack_desk, now=at(date(2026, 3, 26)))
    shape = report.as_dict()
    assert shape["queued"] == 1 and shape["reminders"][0]["channel"] == "slack"

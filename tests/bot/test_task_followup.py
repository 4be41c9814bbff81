"""After the tasks are planned: owners reached by mail, a processor's reply threaded to its
task, one reminder to a processor whose answer date passed (once, across restarts), and the
open tasks named in the secretariat's reminders and the digest (both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import col, select

from bot import cases as core
from bot import tasks as work
from bot.desk import Desk
from bot.digest import build_digest, digest_text
from bot.intake import process_message
from bot.reminders import (
    TASK_REMINDER_PREFIX,
    Step,
    drop_stale_reminders,
    make_reminder,
    reminder_text,
)
from bot.sweep import run_sweep
from bot.task_lines import OpenTask
from storage.models import AuditEvent, Case, Message, OutboxItem, Task
from tests.factories import T0, inventory_desk, new_case
from tests.mailbuilder import build_mail, outbound, text_of

SALARIS, SPECIALISTEN = "privacy@salariskantoor.example", "privacy@specialisten.example"


def _at(day: date, hour: int = 9, minute: int = 1) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 1, minute, tzinfo=UTC)  # CET


def _verified(desk: Desk) -> str:
    case = new_case(desk, category="erasure")
    core.verify_by_hand(desk, reference=case.reference, note="paspoort", actor="t", now=T0)
    return case.reference


def _mails_to(desk: Desk, address: str) -> list[EmailMessage]:
    return [m for _, m in outbound(desk) if m["To"] == address]


def _task(desk: Desk, reference: str, system: str) -> Task:
    return next(
        r.task for r in work.list_tasks(desk, reference=reference) if r.task.system == system
    )


def _events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.transaction() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_an_owner_reached_by_mail_gets_the_instructions_in_dutch(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference, "financien")
    [mail] = _mails_to(desk, "financien@proambt.nl")
    assert (
        mail["Subject"]
        == f"[{reference}] Taak {task.id} voor Financiële administratie: verzoek van een betrokkene"
    )
    text = " ".join(text_of(mail).split())
    assert "beperk het gebruik van de persoonsgegevens" in text  # keep_years: restrict
    assert "markeer de debiteur als 'geblokkeerd'" in text
    assert f"dsr tasks done {task.id}" in text and "jan.jansen@example.nl" in text
    assert "beperkt, bewaard omdat de wet dat verplicht, niets gevonden" in text


def test_the_processors_reply_threads_to_its_task_and_waits_for_a_person(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference, "specialisten")
    [asked] = _mails_to(desk, SPECIALISTEN)
    assert task.mail_message_id == asked["Message-ID"] and task.answer_by == date(2026, 3, 26)
    reply = build_mail(
        sender="Specialisten <privacy@specialisten.example>",
        subject=f"Re: {asked['Subject']}",
        body="Wij hebben niets gevonden. Ons dossiernummer is 123456.",
        in_reply_to=str(asked["Message-ID"]),
    )
    result = process_message(desk, reply, now=T0 + timedelta(hours=3), source="t")
    assert (result.action, result.case) == ("threaded", reference)
    assert result.reason == f"reply from specialisten to task {task.id}"
    after = _task(desk, reference, "specialisten")
    assert after.state == "open" and after.reply_at is not None  # a person confirms
    assert [r for r in work.list_tasks(desk, reference=reference) if r.task.id == task.id]
    assert work.task_json(
        next(r for r in work.list_tasks(desk, reference=reference) if r.task.id == task.id)
    )["reply_received"]
    assert _events(desk, "code_wrong") == [] and _events(desk, "client_consent") == []
    [received] = _events(desk, "task_reply_received")
    assert received.details == {"task": task.id, "system": "specialisten", "state": "open"}
    [ask] = _mails_to(desk, desk.settings.alert_address)  # Slack is off: the secretariat by mail
    assert f"dsr tasks done {task.id}" in text_of(ask)
    with desk.transaction() as session:
        stored = session.exec(select(Message).where(Message.direction == "in")).one()
    assert "task_reply" in stored.flags and stored.case_id is not None

    other = build_mail(
        sender="Iemand <iemand@elders.example>",
        subject=f"Re: {asked['Subject']}",
        body="Alles verwijderd hoor.",
        in_reply_to=str(asked["Message-ID"]),
    )
    flagged = process_message(desk, other, now=T0 + timedelta(hours=4), source="t")
    assert "another address than the one it was sent to" in flagged.reason
    assert len(_events(desk, "task_reply_received")) == 1
    work.task_done(
        desk,
        task_id=task.id or 0,
        result="nothing_found",
        note=None,
        actor="cli:anna",
        now=T0 + timedelta(hours=5),
    )
    assert _task(desk, reference, "specialisten").result == "nothing_found"


def test_one_reminder_to_a_processor_after_its_date_and_tasks_in_reminders_and_digest(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    [asked] = _mails_to(desk, SALARIS)
    run_sweep(desk, now=_at(date(2026, 3, 26)))  # the answer date itself: not yet
    assert len(_mails_to(desk, SALARIS)) == 1
    report = run_sweep(desk, now=_at(date(2026, 3, 27)))
    assert reference in report.task_reminders
    reminder = _mails_to(desk, SALARIS)[-1]
    assert (
        str(reminder["Subject"]).strip()
        == f"[{reference}] Herinnering: verzoek van een betrokkene, antwoord gevraagd"
    )
    assert reminder["In-Reply-To"] == asked["Message-ID"]
    assert "uiterlijk donderdag 26 maart 2026" in " ".join(text_of(reminder).split())
    restarted = Desk(settings=desk.settings, engine=desk.engine)
    run_sweep(restarted, now=_at(date(2026, 3, 27), 15))
    run_sweep(restarted, now=_at(date(2026, 3, 30)))
    assert len(_mails_to(desk, SALARIS)) == 2  # the first mail and one reminder, ever

    to_desk = [
        m for m in _mails_to(desk, desk.settings.alert_address) if reference in str(m["Subject"])
    ]
    text = " ".join(text_of(to_desk[0]).split())
    assert "Open taken: - CRM (relatiebeheer): open, bij slack:U0CRMOWNER" in text
    assert (
        "Salarisadministratie (extern salariskantoor): open, bij privacy@salariskantoor.example"
        in text
    )

    digest = build_digest(desk, _at(date(2026, 3, 27)))
    assert digest.task_cases == 1 and digest.counts()["open_tasks"] == 1
    slack_text = digest_text(digest)
    assert f"• {reference}: CRM (relatiebeheer): open, bij <@U0CRMOWNER>;" in slack_text
    digest_mail = next(m for _, m in outbound(desk) if str(m["Subject"]).startswith("Dagoverzicht"))
    assert "Open taken per zaak: 1" in text_of(digest_mail)


def test_the_slack_reminder_names_the_open_tasks_with_mentions() -> None:
    case = Case(
        id=7,
        reference="DSR-2026-0042",
        state="open",
        category="erasure",
        requester="jan.jansen@example.nl",
        received_at=T0,
        due=date(2026, 4, 2),
        created_at=T0,
        updated_at=T0,
    )
    step = Step(date(2026, 3, 30), 1, "t-3wd")
    reminder = make_reminder(case, step=step, purpose="deadline", today=date(2026, 3, 30))
    tasks = (
        OpenTask("CRM (relatiebeheer)", "slack:U0CRM", reply_received=False),
        OpenTask("Salariskantoor", "privacy@salariskantoor.example", reply_received=True),
    )
    text = reminder_text(replace(reminder, tasks=tasks))
    assert text.endswith(
        "Open taken:\n• CRM (relatiebeheer): open, bij <@U0CRM>\n"
        "• Salariskantoor: open, bij privacy@salariskantoor.example, antwoord ontvangen"
    )
    assert "Open tasks:" in reminder_text(replace(reminder, tasks=tasks), language="en")


def test_a_processor_reminder_queued_before_the_answer_is_dropped_not_sent(
    desk: Desk, tmp_path: Path
) -> None:
    """The reminder waits in the outbox (relay down) while the secretariat records the
    processor's answer: the mail worker drops it instead of chasing a processor who answered."""
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    assert reference in run_sweep(desk, now=_at(date(2026, 3, 27))).task_reminders
    task = _task(desk, reference, "salaris")
    work.task_done(
        desk,
        task_id=task.id or 0,
        result="restricted",
        note=None,
        actor="t",
        now=_at(date(2026, 3, 27)),
    )
    answered = f"{TASK_REMINDER_PREFIX}{task.id}:"
    with desk.transaction() as session:  # what a worker claimed: every task reminder
        claimed = session.exec(
            select(OutboxItem).where(col(OutboxItem.dedupe_key).startswith(TASK_REMINDER_PREFIX))
        ).all()
        kept = drop_stale_reminders(session=session, items=claimed)
        assert any(i.dedupe_key.startswith(answered) for i in claimed)
        assert kept and not [i for i in kept if i.dedupe_key.startswith(answered)]
    with desk.reading() as session:
        row = session.exec(
            select(OutboxItem).where(col(OutboxItem.dedupe_key).startswith(answered))
        ).one()
    assert row.state == "dropped"

"""The breach track's core on both databases: intake opens the record and its clock, the
checklist, the escalation ladder exactly once (two desks on one database), decisions, the
register and retention. Time is injected."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot import breaches as core
from bot.breach_alerts import latest_step, next_step
from bot.breach_mail import draft_notice, draft_request, send_request
from bot.breach_register import register_rows
from bot.desk import Desk
from bot.intake import process_message
from bot.reminders import drop_stale_reminders
from bot.retention import purge
from bot.sweep import run_sweep
from storage.engine import make_engine
from storage.models import AuditEvent, Breach, OutboxItem
from storage.outbox import claim_due
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail

NOTICE = (
    "Geachte heer, mevrouw,\n\nHierbij melden wij een datalek. Op 1 maart om 14.10 uur zijn de "
    "loonstroken van februari van 12 medewerkers van Tuincentrum De Hof per ongeluk naar een "
    "verkeerde klant gemaild. Het gaat om namen, adressen en salarisgegevens. De bijlage was "
    "niet versleuteld.\n\nWij hebben de ontvanger gevraagd de mail te verwijderen.\n\n"
    "Met vriendelijke groet,\nMarieke de Vries\n"
)
PROCESSOR = "privacy@salarisnoord.example.nl"
INVENTORY = f"""
[[system]]
id = "salaris"
name = "Salarisadministratie"
kind = "processor"
contact = "{PROCESSOR}"
"""


@pytest.fixture
def breach_desk(desk: Desk, tmp_path: Path) -> Desk:
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(INVENTORY, encoding="utf-8")
    settings = make_settings(
        desk.settings.database_url,
        tmp_path,
        inventory_file=inventory,
        privacy_owner="fg@proambt.nl",
    )
    return Desk(settings=settings, engine=desk.engine)


def notice(desk: Desk, *, sender: str = f"Marieke de Vries <{PROCESSOR}>") -> str:
    raw = build_mail(sender=sender, subject="Melding datalek", body=NOTICE)
    result = process_message(desk, raw, now=T0, source="test")
    assert result.action == "breach" and result.case is not None, result
    return result.case


def mails(desk: Desk) -> list[OutboxItem]:
    with desk.reading() as session:
        rows = session.exec(
            select(OutboxItem).where(OutboxItem.channel == "mail").order_by(col(OutboxItem.id))
        )
        return list(rows.all())


def test_a_notice_opens_a_breach_with_its_clock_and_nothing_goes_to_the_reporter(
    breach_desk: Desk,
) -> None:
    reference = notice(breach_desk)
    assert reference == "DL-2026-0001"
    breach = core.get(breach_desk, reference=reference)
    assert (breach.state, breach.source, breach.processor) == ("open", "mail", "salaris")
    assert breach.aware_at == T0 and core.due_of(breach) == T0 + timedelta(hours=72)
    facts = core.facts_of(breach)
    assert "verkeerde klant" in facts["nature"]["value"]
    assert facts["encrypted"]["value"] == "no"
    assert "12 medewerkers" in facts["numbers"]["value"]
    assert "verwijderen" in facts["measures"]["value"]
    # no acknowledgement and no identity code: only the opening alert to the privacy owner
    (alert,) = mails(breach_desk)
    assert (alert.recipient, alert.kind) == ("fg@proambt.nl", "breach_alert")
    summary = core.summary(breach, tz=breach_desk.tz, now=T0)
    assert summary["reporter"] == "p***@salarisnoord.example.nl"
    assert summary["due"] == "2026-03-05T10:30:00+01:00"  # shown in Amsterdam time
    assert set(summary["missing"]) == {
        "contact",
        "consequences",
        "discovered_at",
        "special_categories",
        "cross_border",
        "subjects_told",
    }


def test_the_reporter_and_the_facts_are_sealed_at_rest(db_url: str, tmp_path: Path) -> None:
    from handlers.runtime import build_desk
    from storage.sealing import generate_key

    sealed = build_desk(
        make_settings(db_url, tmp_path, encryption_key=generate_key(), db_auto_upgrade="true")
    )
    try:
        notice(sealed)
        with sealed.engine.connect() as connection:
            row = connection.execute(text("SELECT reporter, reporter_name, facts FROM breach"))
            stored = " ".join(str(v) for v in row.one())
    finally:
        sealed.engine.dispose()
    assert "salarisnoord" not in stored and "verkeerde" not in stored and "Marieke" not in stored


def test_the_question_is_drafted_threaded_and_sent_only_when_confirmed(
    breach_desk: Desk,
) -> None:
    reference = notice(breach_desk)
    draft = draft_request(core.get(breach_desk, reference=reference))
    assert draft is not None and draft.to == PROCESSOR
    assert f"[{reference}]" in draft.mail.subject and "gevolgen" in draft.mail.text
    assert len(mails(breach_desk)) == 1  # a draft is not sent
    send_request(breach_desk, reference=reference, actor="cli:anna", now=T0)
    question = mails(breach_desk)[-1]
    assert question.recipient == PROCESSOR and question.kind == "breach_request"
    assert b"In-Reply-To: <" in question.payload

    # the reporter answers in the thread: the items it speaks of are filled
    answer = build_mail(
        sender=f"Marieke de Vries <{PROCESSOR}>",
        subject=f"Re: [{reference}] Uw melding van een datalek",
        body="Voor vragen kunt u contact opnemen met Marieke de Vries, 050 123 4567. Het risico "
        "is beperkt omdat de ontvanger de mail heeft verwijderd. De betrokkenen zijn nog niet "
        "geinformeerd. Er zijn geen bijzondere persoonsgegevens betrokken.",
        in_reply_to=str(question.message_id),
    )
    result = process_message(breach_desk, answer, now=T0 + timedelta(hours=3), source="test")
    assert (result.action, result.case) == ("threaded", reference)
    facts = core.facts_of(core.get(breach_desk, reference=reference))
    assert facts["contact"]["source"] == "reply" and "050 123 4567" in facts["contact"]["value"]
    assert facts["subjects_told"]["value"] == "no"
    assert facts["special_categories"]["value"] == "no"
    assert "risico" in facts["consequences"]["value"]
    # someone else writing in the thread fills nothing
    other = build_mail(
        sender="Iemand <iemand@example.nl>",
        subject=f"Re: [{reference}] Uw melding",
        body="De gegevens waren versleuteld.",
    )
    result = process_message(breach_desk, other, now=T0 + timedelta(hours=4), source="test")
    assert result.action == "threaded"
    assert core.facts_of(core.get(breach_desk, reference=reference))["encrypted"]["value"] == "no"
    with breach_desk.reading() as session:
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions.count("breach_mail_received") == 2 and "breach_request_sent" in actions


@pytest.mark.parametrize(
    ("hours", "step"),
    [(0, None), (23.9, None), (24, "h24"), (47, "h24"), (48, "h48"), (61, "h60"), (68, "h68")]
    + [(71.99, "h68"), (72, "h72"), (72.5, "h72"), (73, "h73"), (100.2, "h100")],
)
def test_the_ladder(hours: float, step: str | None) -> None:
    found = latest_step(aware_at=T0, now=T0 + timedelta(hours=hours))
    assert (found.name if found else None) == step


def test_a_clock_that_jumped_back_sends_nothing_again() -> None:
    now = T0 + timedelta(hours=49)
    assert next_step(aware_at=T0, now=now, sent={"h60"}) is None
    assert next_step(aware_at=T0, now=now, sent={"h24"}) is not None


def test_alerts_fire_at_the_right_hours_once_across_two_desks(
    breach_desk: Desk, db_url: str, tmp_path: Path
) -> None:
    reference = notice(breach_desk)
    other_engine = make_engine(db_url)  # a second instance on the same database
    other = Desk(settings=breach_desk.settings, engine=other_engine)
    fired: list[str] = []
    try:
        for hours in (1, 23, 24, 24.5, 30, 48, 59, 60, 68, 71, 72, 72.2, 73, 74):
            for instance in (breach_desk, other):
                report = run_sweep(instance, now=T0 + timedelta(hours=hours))
                fired += report.breach_alerts
    finally:
        other_engine.dispose()
    steps = ["h24", "h48", "h60", "h68", "h72", "h73", "h74"]
    assert fired == [f"{reference}:{s}" for s in steps]
    alerts = [m for m in mails(breach_desk) if m.kind == "breach_alert"]
    assert len(alerts) == 1 + len(steps)
    # the daily digest (once per working day) lists the open breach before any case
    digests = [m for m in mails(breach_desk) if m.kind == "digest"]
    assert digests and all(b"Open datalekken: 1" in m.payload for m in digests)

    core.decide(
        breach_desk,
        reference=reference,
        decision=core.Decision(
            ap=True,
            subjects=False,
            reasons="Loonstroken bij een derde; risico voor de betrokkenen niet uit te sluiten.",
            ap_number="M-2026-123",
        ),
        actor="cli:anna",
        now=T0 + timedelta(hours=74.5),
    )
    assert run_sweep(breach_desk, now=T0 + timedelta(hours=80)).breach_alerts == []


def test_aware_at_changes_with_a_reason_and_restarts_the_ladder(breach_desk: Desk) -> None:
    reference = notice(breach_desk)
    assert run_sweep(breach_desk, now=T0 + timedelta(hours=25)).breach_alerts == [
        f"{reference}:h24"
    ]
    with pytest.raises(core.BreachRefused, match="reason"):
        core.update_field(
            breach_desk,
            reference=reference,
            field="aware_at",
            value="2026-03-02T20:00:00+01:00",
            reason=None,
            actor="cli:anna",
            now=T0,
        )
    core.update_field(
        breach_desk,
        reference=reference,
        field="aware_at",
        value="2026-03-02T20:00:00+01:00",
        reason="de melding lag tot de avond ongelezen in de spam",
        actor="cli:anna",
        now=T0 + timedelta(hours=26),
    )
    breach = core.get(breach_desk, reference=reference)
    assert breach.aware_at == datetime.fromisoformat("2026-03-02T20:00:00+01:00")
    later = T0 + timedelta(hours=34)  # 24 hours after the new aware_at
    assert run_sweep(breach_desk, now=later).breach_alerts == [f"{reference}:h24"]
    with breach_desk.reading() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "breach_updated")).one()
    assert event.details["field"] == "aware_at" and event.note and "spam" in event.note


def test_decision_needs_reasons_and_the_register_holds_it(breach_desk: Desk) -> None:
    reference = notice(breach_desk)
    with pytest.raises(core.BreachRefused, match="risk assessment"):
        core.decide(
            breach_desk,
            reference=reference,
            decision=core.Decision(ap=False, subjects=False, reasons=""),
            actor="cli:anna",
            now=T0,
        )
    core.decide(
        breach_desk,
        reference=reference,
        decision=core.Decision(
            ap=False,
            subjects=True,
            reasons="Ontvanger heeft verwijderd; laag risico voor de AP, wel informeren.",
        ),
        actor="cli:anna",
        now=T0 + timedelta(hours=5),
    )
    core.update_field(
        breach_desk,
        reference=reference,
        field="update",
        value="Ontvanger bevestigde schriftelijk de verwijdering.",
        reason=None,
        actor="cli:anna",
        now=T0 + timedelta(hours=6),
    )
    (row,) = register_rows(breach_desk)
    assert (row["reference"], row["state"], row["ap_notified"], row["subjects_told"]) == (
        reference,
        "decided",
        "no",
        "yes",
    )
    assert "laag risico" in row["risk_assessment"] and "verwijdering" in row["updates"]
    assert "verkeerde klant" in row["nature"] and row["encrypted"] == "no"
    notice_nl = draft_notice(core.get(breach_desk, reference=reference), language="nl")
    notice_en = draft_notice(core.get(breach_desk, reference=reference), language="en")
    assert "verkeerde klant" in notice_nl.text and reference in notice_en.subject


def test_a_phone_report_and_retention(breach_desk: Desk) -> None:
    with breach_desk.transaction() as session:
        breach = core.open_breach(
            breach_desk,
            session=session,
            new=core.NewBreach(
                reporter="p.bakker@proambt.nl",
                reporter_name="Pieter Bakker",
                received_at=T0,
                source="phone",
            ),
            actor="cli:anna",
            now=T0,
        )
        reference = breach.reference
    core.decide(
        breach_desk,
        reference=reference,
        decision=core.Decision(
            ap=False, subjects=False, reasons="Versleutelde laptop, geen risico."
        ),
        actor="cli:anna",
        now=T0,
    )
    days = breach_desk.settings.retention_days
    report = purge(breach_desk, now=T0 + timedelta(days=days + 1))
    assert report.breaches == (reference,)
    kept = core.get(breach_desk, reference=reference)
    assert kept.reporter == "" and "purged" in kept.flags and kept.risk
    with breach_desk.reading() as session:
        assert session.exec(select(Breach)).one().ap_notified is False


def test_a_notice_from_a_no_reply_system_is_still_a_breach(breach_desk: Desk) -> None:
    raw = build_mail(
        sender="HR Online <noreply@hronline.example.nl>",
        subject="Security incident notification",
        body="We detected unauthorised access to the HR portal. Employee records may have "
        "been viewed.",
    )
    result = process_message(breach_desk, raw, now=T0, source="test")
    assert result.action == "breach"
    # a list's or an auto-reply's words about a breach stay machine mail
    listed = build_mail(
        sender="Nieuwsbrief <nieuws@privacy.example.nl>",
        subject="Datalekken deze week",
        body="Hierbij melden wij een datalek bij een grote zorgverzekeraar.",
        headers={"List-Id": "<nieuws.privacy.example.nl>", "Precedence": "bulk"},
    )
    assert process_message(breach_desk, listed, now=T0, source="test").action == "ignored"


def test_an_alert_queued_before_the_decision_is_dropped_not_sent(breach_desk: Desk) -> None:
    """The 24-hour alert waits in the outbox (relay down); the breach is decided meanwhile: the
    delivery workers drop the alert instead of telling the privacy owner to act."""
    reference = notice(breach_desk)
    assert run_sweep(breach_desk, now=T0 + timedelta(hours=25)).breach_alerts == [
        f"{reference}:h24"
    ]
    core.decide(
        breach_desk,
        reference=reference,
        decision=core.Decision(ap=False, subjects=False, reasons="Versleuteld; geen risico."),
        actor="cli:anna",
        now=T0 + timedelta(hours=26),
    )
    with breach_desk.transaction() as session:
        claimed = claim_due(
            session=session,
            channel="mail",
            now=T0 + timedelta(hours=27),
            limit=50,
            lease=timedelta(minutes=5),
        )
        kept = drop_stale_reminders(session=session, items=claimed)
        kept_keys = {item.dedupe_key for item in kept}
    assert any(":opened:" in key for key in kept_keys)  # the opening alert still goes
    assert not any(":h24:" in key for key in kept_keys)
    dropped = [m for m in mails(breach_desk) if ":h24:" in m.dedupe_key]
    assert [m.state for m in dropped] == ["dropped"]

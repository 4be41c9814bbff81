"""The client's consent: read from the requester's reply (and only theirs), set by the
secretariat, and enforced where mail to systems is queued: nothing reaches a group entity
(the client organisation) without it, whichever way one tries (both databases)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import cases as core
from bot import tasks as work
from bot.consent import consent_in, set_consent
from bot.desk import Desk
from bot.intake import process_message
from bot.inventory_source import inventory_source
from bot.task_mail import queue_request_mail, queue_task_reminder
from storage.models import AuditEvent, Case
from tests.factories import T0, inventory_desk, new_case
from tests.mailbuilder import build_mail, code_in, outbound, text_of

HOLDING = "privacy@holding.example"
LATER = T0 + timedelta(hours=2)
ERASURE = "Beste secretariaat,\n\nVerwijder al mijn persoonsgegevens (artikel 17 AVG).\n\nJan\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ja", True),
        ("Ja.", True),
        ("123456 ja", True),
        ("  YES!\n\nJan", True),
        ("nee", False),
        ("No", False),
        ("ja, ik wil dat u alles verwijdert", None),  # a sentence is not an answer
        ("No code reached me", None),
        ("ja\nnee", None),  # two answers are none
        ("", None),
    ],
)
def test_the_answer_is_a_line_with_only_ja_or_nee(text: str, expected: bool | None) -> None:
    assert consent_in(text) is expected


def _to(desk: Desk, address: str) -> list[str]:
    return [str(m["Subject"]) for item, m in outbound(desk) if m["To"] == address]


def _events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.transaction() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _consent(desk: Desk, reference: str) -> bool | None:
    return core.get_case(desk, reference=reference).client_may_be_informed


def _verified(desk: Desk) -> str:
    case = new_case(desk, category="erasure")
    core.verify_by_hand(desk, reference=case.reference, note="paspoort", actor="t", now=T0)
    return case.reference


def test_the_group_entity_waits_for_consent_and_gets_its_mail_after_yes(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    assert _consent(desk, reference) is None
    assert _to(desk, HOLDING) == []
    assert _to(desk, "privacy@salariskantoor.example")  # a processor is not a client
    [held] = _events(desk, "task_mail_held")
    assert held.details == {
        "task": held.details["task"],
        "system": "groep",
        "reason": "no_client_consent",
    }
    set_consent(
        desk, reference=reference, value="yes", note="telefonisch", actor="cli:anna", now=LATER
    )
    assert _consent(desk, reference) is True
    [subject] = _to(desk, HOLDING)
    assert subject.startswith(f"[{reference}] Taak")
    [event] = _events(desk, "client_consent")
    assert event.details == {"from": "unknown", "to": "yes", "how": "secretariat"}
    assert event.note == "telefonisch" and event.actor == "cli:anna"
    set_consent(desk, reference=reference, value="yes", note=None, actor="cli:anna", now=LATER)
    assert len(_to(desk, HOLDING)) == 1 and len(_events(desk, "client_consent")) == 1


def test_no_way_around_the_consent(desk: Desk, tmp_path: Path) -> None:
    """Reassigning the group's task, a kind change, the processor mail and reminder functions
    called for the group directly, and a "no": none of them mails the holding."""
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    set_consent(desk, reference=reference, value="no", note=None, actor="t", now=T0)
    groep = next(
        r.task for r in work.list_tasks(desk, reference=reference) if r.task.system == "groep"
    )
    assert groep.id is not None
    work.task_reassign(
        desk, task_id=groep.id, assignee="iemand@holding.example", actor="t", now=LATER
    )
    core.change_kind(desk, reference=reference, kind="access", actor="t", now=LATER)
    core.change_kind(desk, reference=reference, kind="erasure", actor="t", now=LATER)
    inventory = inventory_source(desk.settings.inventory_file).current()
    assert inventory is not None
    system = inventory.get("groep")
    assert system is not None
    with desk.transaction() as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
        task = session.merge(groep)
        assert not queue_request_mail(
            desk, session=session, case=case, task=task, system=system, now=LATER
        )
        assert not queue_task_reminder(
            desk, session=session, case=case, task=task, system=system, now=LATER
        )
    holding = [
        to for item, m in outbound(desk) if (to := str(m["To"])).endswith("@holding.example")
    ]
    assert holding == []
    assert len(_events(desk, "task_mail_held")) >= 4


def test_the_requesters_ja_with_the_code_verifies_and_consents(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    created = process_message(
        desk, build_mail(subject="Verwijderen", body=ERASURE), now=T0, source="t"
    )
    reference = created.case
    assert reference is not None
    ack = next(m for _, m in outbound(desk) if "ontvangen" in str(m["Subject"]))
    assert 'alleen het woord "ja"' in " ".join(text_of(ack).split())
    code = code_in(outbound(desk)[-1][1])
    stranger = build_mail(
        sender="Chef <chef@werkgever.example>",
        subject=f"Re: [{reference}] Uw code",
        body="ja",
        in_reply_to=str(ack["Message-ID"]),
    )
    flagged = process_message(desk, stranger, now=T0 + timedelta(minutes=1), source="t")
    assert "another address" in flagged.reason and _consent(desk, reference) is None
    reply = build_mail(
        subject=f"Re: [{reference}] Uw code",
        body=f"{code}\nja\n",
        in_reply_to=str(ack["Message-ID"]),
    )
    answered = process_message(desk, reply, now=T0 + timedelta(minutes=5), source="t")
    assert "identity: verified" in answered.reason and "client consent: yes" in answered.reason
    assert _consent(desk, reference) is True
    assert len(_to(desk, HOLDING)) == 1
    [event] = _events(desk, "client_consent")
    assert event.actor == "requester" and event.details["how"] == "reply"
    later = build_mail(
        subject=f"Re: [{reference}] Uw code", body="Nee.", in_reply_to=str(ack["Message-ID"])
    )
    process_message(desk, later, now=T0 + timedelta(minutes=9), source="t")
    assert _consent(desk, reference) is False

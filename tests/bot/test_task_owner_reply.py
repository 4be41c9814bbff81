"""An owner reached by mail answers their task mail: the reply threads to the task by our
Message-ID, from the owner's address on record only, and waits for a person to confirm. Mail
from anyone else in that thread, a forged From, and a References header stuffed with guessed
ids of ours change nothing (both databases)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot import cases as core
from bot import tasks as work
from bot.compose import message_id_domain
from bot.desk import Desk
from bot.intake import THREAD_IDS, process_message
from bot.sweep import run_sweep
from storage.models import AuditEvent, Message, Task
from tests.factories import T0, inventory_desk, new_case
from tests.mailbuilder import build_mail, outbound, text_of

OWNER = "financien@proambt.nl"  # the financial administration's owner in the example inventory
SPECIALISTEN = "privacy@specialisten.example"  # a processor's contact
LATER = T0 + timedelta(hours=3)


def _verified(desk: Desk) -> str:
    case = new_case(desk, category="erasure")
    core.verify_by_hand(desk, reference=case.reference, note="paspoort", actor="t", now=T0)
    return case.reference


def _mails_to(desk: Desk, address: str) -> list[EmailMessage]:
    return [m for _, m in outbound(desk) if m["To"] == address]


def _task(desk: Desk, reference: str, system: str = "financien") -> Task:
    return next(
        r.task for r in work.list_tasks(desk, reference=reference) if r.task.system == system
    )


def _events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.transaction() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _last_inbound(desk: Desk) -> Message:
    with desk.transaction() as session:
        statement = select(Message).where(Message.direction == "in").order_by(col(Message.id))
        return list(session.exec(statement).all())[-1]


def _reply(asked: EmailMessage, *, sender: str, body: str, **headers: str) -> bytes:
    return build_mail(
        sender=sender,
        subject=f"Re: {asked['Subject']}",
        body=body,
        in_reply_to=None if headers else str(asked["Message-ID"]),
        headers=headers or None,
    )


def test_the_owners_reply_threads_to_the_task_and_waits_for_a_person(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference)
    [asked] = _mails_to(desk, OWNER)
    assert task.mail_message_id == asked["Message-ID"] and task.answer_by is None

    reply = _reply(
        asked,
        sender="Financiën <Financien@proambt.nl>",
        body="Debiteur geblokkeerd, alles verwijderd.\n123456\nja\n",
    )
    result = process_message(desk, reply, now=LATER, source="t")

    assert (result.action, result.case) == ("threaded", reference)
    assert result.reason == f"reply from the owner of financien to task {task.id}"
    after = _task(desk, reference)
    assert (after.state, after.result, after.done_by) == ("open", None, None)  # not by itself
    assert after.reply_at is not None
    [received] = _events(desk, "task_reply_received")
    assert received.actor == "owner"
    assert received.details == {"task": task.id, "system": "financien", "state": "open"}
    assert _events(desk, "task_done") == [] and _events(desk, "client_consent") == []
    stored = _last_inbound(desk)
    assert "task_reply" in stored.flags and stored.case_id == after.case_id
    [ask] = _mails_to(desk, desk.settings.alert_address)  # Slack is off: the secretariat by mail
    assert f"dsr tasks done {task.id}" in text_of(ask)

    work.task_done(
        desk, task_id=task.id or 0, result="restricted", note=None, actor="cli:anna", now=LATER
    )
    assert _task(desk, reference).result == "restricted"


@pytest.mark.parametrize(
    "sender",
    [
        "Piet Collega <piet@proambt.nl>",  # another colleague
        "Jan Jansen <jan.jansen@example.nl>",  # the requester
        "Mallory <mallory@evil.test>",  # an outsider who learned the Message-ID
    ],
)
def test_mail_in_the_owners_thread_from_another_address_is_flagged_and_changes_nothing(
    desk: Desk, tmp_path: Path, sender: str
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference)
    [asked] = _mails_to(desk, OWNER)

    forged = _reply(asked, sender=sender, body="Alles verwijderd.\n123456\nja\n")
    result = process_message(desk, forged, now=LATER, source="t")

    assert result.case == reference
    assert result.reason == (
        f"answers task {task.id} from another address than the one it was sent to; not acted on"
    )
    assert {"other_sender", "task_reply_other_sender"} <= set(_last_inbound(desk).flags)
    after = _task(desk, reference)
    assert (after.state, after.reply_at, after.result) == ("open", None, None)
    assert _events(desk, "task_reply_received") == []
    assert _events(desk, "client_consent") == []  # not even the requester's "ja" counts here
    assert core.get_case(desk, reference=reference).client_may_be_informed is None
    assert _mails_to(desk, desk.settings.alert_address) == []


def test_the_owners_address_failing_dmarc_at_our_server_is_flagged(
    desk: Desk, tmp_path: Path
) -> None:
    trusted = desk.settings.model_copy(update={"trusted_authserv_id": "mx.proambt.nl"})
    desk = inventory_desk(Desk(settings=trusted, engine=desk.engine), tmp_path)
    reference = _verified(desk)
    [asked] = _mails_to(desk, OWNER)
    forged = build_mail(
        sender=f"Financiën <{OWNER}>",
        subject=f"Re: {asked['Subject']}",
        body="Alles verwijderd.",
        in_reply_to=str(asked["Message-ID"]),
        headers={"Authentication-Results": "mx.proambt.nl; dmarc=fail header.from=proambt.nl"},
    )
    result = process_message(desk, forged, now=LATER, source="t")

    assert "not acted on" in result.reason
    assert {"auth_dmarc_failed", "task_reply_other_sender"} <= set(_last_inbound(desk).flags)
    assert _task(desk, reference).reply_at is None and _events(desk, "task_reply_received") == []


def test_references_stuffed_with_guessed_ids_reach_no_further_than_the_last_few(
    desk: Desk, tmp_path: Path
) -> None:
    """Only the last THREAD_IDS ids of our domain are looked up: the task mail's id buried
    under guesses threads to nothing, even from the owner; placed last it threads as usual."""
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference)
    [asked] = _mails_to(desk, OWNER)
    domain = message_id_domain(desk.settings.own_domain)
    guesses = [make_msgid(idstring=f"g{i}", domain=domain) for i in range(THREAD_IDS * 5)]
    real = str(asked["Message-ID"])

    buried = _reply(asked, sender=OWNER, body="Gedaan.", References=" ".join([real, *guesses]))
    result = process_message(desk, buried, now=LATER, source="t")
    assert result.reason.startswith("reply to the case")  # the subject's reference, no task
    assert _task(desk, reference).reply_at is None
    assert _events(desk, "task_reply_received") == []

    last = _reply(asked, sender=OWNER, body="Gedaan.", References=" ".join([*guesses, real]))
    threaded = process_message(desk, last, now=LATER + timedelta(minutes=1), source="t")
    assert threaded.reason == f"reply from the owner of financien to task {task.id}"
    assert len(_events(desk, "task_reply_received")) == 1


def test_after_a_reassignment_only_the_new_assignees_reply_counts(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference)
    [first] = _mails_to(desk, OWNER)
    work.task_reassign(
        desk, task_id=task.id or 0, assignee="anna@proambt.nl", actor="cli:anna", now=LATER
    )
    [second] = _mails_to(desk, "anna@proambt.nl")
    assert _task(desk, reference).mail_message_id == second["Message-ID"]

    old = _reply(first, sender=OWNER, body="Gedaan.")
    ignored = process_message(desk, old, now=LATER + timedelta(minutes=1), source="t")
    assert ignored.case == reference and "other_sender" in _last_inbound(desk).flags
    assert _events(desk, "task_reply_received") == []

    new = _reply(second, sender="anna@proambt.nl", body="Gedaan.")
    threaded = process_message(desk, new, now=LATER + timedelta(minutes=2), source="t")
    assert threaded.reason == f"reply from the owner of financien to task {task.id}"
    assert _task(desk, reference).reply_at is not None


def test_a_processor_task_handed_to_someone_by_mail_is_theirs_to_answer(
    desk: Desk, tmp_path: Path
) -> None:
    """The new assignee's mail takes over the thread: the processor is no longer chased after
    its answer date, and its reply to our first mail no longer counts as the task's answer."""
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    task = _task(desk, reference, "specialisten")
    [request] = _mails_to(desk, SPECIALISTEN)
    work.task_reassign(
        desk, task_id=task.id or 0, assignee="anna@proambt.nl", actor="cli:anna", now=LATER
    )
    [handed] = _mails_to(desk, "anna@proambt.nl")
    after = _task(desk, reference, "specialisten")
    assert (after.mail_message_id, after.answer_by) == (handed["Message-ID"], None)

    report = run_sweep(desk, now=T0 + timedelta(days=40))  # long past the processor's date
    assert reference in report.task_reminders  # the other processors of the case are chased
    assert len(_mails_to(desk, SPECIALISTEN)) == 1  # this one is not

    late = _reply(request, sender=SPECIALISTEN, body="Niets gevonden.")
    result = process_message(desk, late, now=LATER + timedelta(hours=1), source="t")
    assert result.reason.startswith("reply to the case")
    assert _task(desk, reference, "specialisten").reply_at is None

"""Telling whoever does a task: the secretariat's mail to a processor or recipient (what to
do, for whom, by when), a mail to an owner reached by mail, or a Slack direct message to an
owner in Slack. This is the one place mail and messages to systems are queued, and the one
place the client's consent is enforced: nothing goes to a group entity (a client organisation
of the requester) unless the requester said it may be told."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.categories import plain_words
from bot.desk import Desk
from bot.inventory import System
from bot.inventory_source import inventory_source
from bot.notices import code_address
from bot.outbox import queue_mail, queue_slack
from bot.reminders import TASK_REMINDER_PREFIX
from bot.wording import long_date
from storage.audit import append_event
from storage.models import Case, OutboxItem, Task
from storage.tasks import OPEN, tasks_of_case

logger = logging.getLogger("dsr.tasks")
CONSENT_KINDS = frozenset({"group"})


def ask_by(case: Case, *, today: date) -> date:
    """The answer date asked of a processor: a week before the case's due date, so that the
    secretariat can still answer in time; never before today."""
    return max((case.extended_due or case.due) - timedelta(days=7), today)


def may_contact(system: System, case: Case) -> bool:
    """Whether anything about this case may go to `system`: a group entity (the requester's
    client organisation) only with the requester's consent (`client_may_be_informed`)."""
    return system.kind not in CONSENT_KINDS or case.client_may_be_informed is True


def notify_assignee(
    desk: Desk, *, session: Session, case: Case, task: Task, system: System, now: datetime
) -> str:
    """Tell the task's assignee, once per assignee: "mail" (a processor's or recipient's
    contact, or an owner reached by mail), "slack" (a direct message), or "held" (no consent
    to tell a group entity yet: sent when the requester gives it)."""
    if not may_contact(system, case):
        _held(session, case, task, now=now)
        return "held"
    if task.assignee.startswith("slack:"):
        queue_task_dm(desk, session=session, case=case, task=task, now=now)
        return "slack"
    if mails_owner(task, system):
        _owner_mail(desk, session=session, case=case, task=task, system=system, now=now)
    else:
        queue_request_mail(desk, session=session, case=case, task=task, system=system, now=now)
    return "mail"


def mails_owner(task: Task, system: System) -> bool:
    """Whether a task assigned to a mail address gets the owner's mail (`task_owner`: the
    system's owner, or whom a person handed the task to) rather than the request to the
    system's contact."""
    return not (task.assignee == system.contact and system.owner is None)


def queue_request_mail(
    desk: Desk, *, session: Session, case: Case, task: Task, system: System, now: datetime
) -> bool:
    """The secretariat's mail asking a processor or recipient to act (art. 28(3)(e), art. 19),
    in the system's language (Dutch by default), threaded to the case. Its Message-ID is kept
    on the task, so that the answer threads to it."""
    by = ask_by(case, today=now.astimezone(desk.tz).date())
    key = f"mail:task:{task.id}"
    queued = _queue_system_mail(
        desk,
        session=session,
        case=case,
        task=task,
        system=system,
        template="processor_request",
        to=system.contact or "",
        now=now,
        context={**_context(session, case, system, task), "by": long_date(by, system.language)},
        dedupe_key=key,
    )
    if queued:
        task.mail_message_id, task.answer_by = _message_id(session, key), by
        session.add(task)
    return queued


def queue_task_reminder(
    desk: Desk, *, session: Session, case: Case, task: Task, system: System, now: datetime
) -> bool:
    """One reminder to a processor or recipient whose answer date passed, threaded to the
    first mail (the sweep records it once, see bot/sweep.py)."""
    by = task.answer_by or ask_by(case, today=now.astimezone(desk.tz).date())
    return _queue_system_mail(
        desk,
        session=session,
        case=case,
        task=task,
        system=system,
        template="processor_reminder",
        to=system.contact or "",
        now=now,
        context={**_context(session, case, system, task), "by": long_date(by, system.language)},
        dedupe_key=f"{TASK_REMINDER_PREFIX}{task.id}:{by.isoformat()}",
        in_reply_to=task.mail_message_id,
    )


def _owner_mail(
    desk: Desk, *, session: Session, case: Case, task: Task, system: System, now: datetime
) -> bool:
    """The mail to an owner reached by mail. Its Message-ID is kept on the task, so that the
    owner's answer threads to it (bot.task_replies); the answer date of a processor's request
    is dropped, as the task is no longer the processor's to answer."""
    by = ask_by(case, today=now.astimezone(desk.tz).date())
    key = f"mail:task-owner:{task.id}:{task.assignee}"[:255]
    context = {
        **_context(session, case, system, task),
        "by": long_date(by, system.language),
        "task_id": task.id,
        "results": results_for(task.action),
    }
    queued = _queue_system_mail(
        desk,
        session=session,
        case=case,
        task=task,
        system=system,
        template="task_owner",
        to=task.assignee,
        now=now,
        context=context,
        dedupe_key=key,
    )
    if queued:
        task.mail_message_id, task.answer_by = _message_id(session, key), None
        session.add(task)
    return queued


def _queue_system_mail(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    task: Task,
    system: System,
    template: str,
    to: str,
    now: datetime,
    context: dict[str, Any],
    dedupe_key: str,
    in_reply_to: str | None = None,
) -> bool:
    """Every mail to a system passes here: refused without the consent a group entity needs."""
    if not may_contact(system, case):
        _held(session, case, task, now=now)
        return False
    return queue_mail(
        desk,
        session=session,
        case=case,
        template=template,
        to=to,
        now=now,
        context=context,
        dedupe_key=dedupe_key,
        in_reply_to=in_reply_to,
        automatic=False,
        language=system.language,
    )


def queue_task_dm(desk: Desk, *, session: Session, case: Case, task: Task, now: datetime) -> None:
    """The owner's direct message (rendered by the Slack worker from the task as it is) and a
    line in the case's thread."""
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="task_dm",
        dedupe_key=f"slack:task-dm:{task.id}:{task.assignee}"[:255],
        now=now,
        payload={"task": task.id, "user": task.assignee.removeprefix("slack:")},
    )
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="thread_note",
        dedupe_key=f"slack:task-sent:{task.id}:{task.assignee}"[:255],
        now=now,
        payload={
            "text": f"Task #{task.id} {task.system} ({task.action}) sent to / taak gestuurd "
            f"naar <@{task.assignee.removeprefix('slack:')}>"
        },
    )


def queue_task_dm_update(
    desk: Desk, *, session: Session, case: Case, task: Task, shown: tuple[str, str, str]
) -> None:
    """After a change of a task: update its direct message in place (`shown`: the DM's
    channel, ts and the assignee it was sent to); buttons stay only while it is theirs."""
    channel, ts, assignee = shown
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="task_dm",
        dedupe_key=f"slack:task-dm-update:{task.id}:{case.version}",
        now=case.updated_at,
        payload={
            "task": task.id,
            "user": assignee.removeprefix("slack:"),
            "channel": channel,
            "ts": ts,
        },
    )


def tell_new_assignee(
    desk: Desk, *, session: Session, case: Case, task: Task, now: datetime
) -> str:
    """A reassigned task goes to its new assignee the way a new one does."""
    inventory = inventory_source(desk.settings.inventory_file).current()
    system = inventory.get(task.system) if inventory is not None else None
    if system is None:
        return "none"
    task.slack_channel = task.slack_ts = None
    session.add(task)
    return notify_assignee(desk, session=session, case=case, task=task, system=system, now=now)


def results_for(action: str) -> list[str]:
    """The results that fit `action` (bot.fulfilment, which imports this module)."""
    from bot.fulfilment import RESULTS, RESULTS_FOR_ACTION

    return list(RESULTS_FOR_ACTION.get(action, RESULTS))


def _context(session: Session, case: Case, system: System, task: Task) -> dict[str, Any]:
    return {
        "system": system.name,
        "action": task.action,
        "person": code_address(session, case),
        "instructions": " ".join(system.instructions.split()),
        "kind_words": plain_words(case.category, system.language),
    }


def _message_id(session: Session, dedupe_key: str) -> str | None:
    statement = select(OutboxItem.message_id).where(OutboxItem.dedupe_key == dedupe_key)
    return session.exec(statement).first()


def _held(session: Session, case: Case, task: Task, *, now: datetime) -> None:
    append_event(
        session=session,
        at=now,
        actor="system",
        action="task_mail_held",
        case_id=case.id,
        reference=case.reference,
        details={"task": task.id, "system": task.system, "reason": "no_client_consent"},
    )
    logger.info("case=%s task %s: not sent, no consent to tell the client", case.reference, task.id)


def release_held(desk: Desk, *, session: Session, case: Case, now: datetime) -> int:
    """After the requester's consent: tell the group entities whose open tasks were held."""
    inventory = inventory_source(desk.settings.inventory_file).current()
    if inventory is None or case.id is None or case.client_may_be_informed is not True:
        return 0
    released = 0
    for task in tasks_of_case(session=session, case_id=case.id):
        system = inventory.get(task.system)
        if task.state == OPEN and system is not None and system.kind in CONSENT_KINDS:
            notify_assignee(desk, session=session, case=case, task=task, system=system, now=now)
            released += 1
    return released


def tell_people(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    task: Task,
    shown: tuple[str | None, str | None, str],
    now: datetime,
) -> None:
    """After a task changed (bot.tasks): its owner's direct message is updated in place, and
    a new assignee is told the way a new owner is."""
    channel, ts, assignee = shown
    if channel and ts:
        queue_task_dm_update(
            desk, session=session, case=case, task=task, shown=(channel, ts, assignee)
        )
    if task.assignee != assignee:
        tell_new_assignee(desk, session=session, case=case, task=task, now=now)

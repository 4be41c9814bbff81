"""The answer to our task mail: a processor's or recipient's to our request, or an owner's to
the owner's mail. It threads to the task by our own Message-ID (In-Reply-To/References); from
the address that mail went to (the system's contact, or the owner on record: the task's
assignee) it is stored with the case, the task shows "reply received" and a person is asked to
confirm the result (`dsr tasks done`, or the button). From any other address it is flagged and
changes nothing. Neither touches the requester's identity or code."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases import audit, record_change
from bot.compose import message_id_domain
from bot.desk import Desk
from bot.inventory import System
from bot.inventory_source import inventory_source
from bot.mail.authresults import auth_failures
from bot.mail.parse import ParsedMail
from bot.outbox import queue_mail, queue_slack
from bot.privacy import normalise_address
from bot.reminders import SECRETARIAT_LANGUAGE
from bot.task_mail import mails_owner
from storage.models import Case, Task
from storage.tasks import OPEN

logger = logging.getLogger("dsr.tasks")
THREAD_IDS = 20


@dataclass(frozen=True)
class TaskReply:
    task_id: int
    flags: tuple[str, ...]
    reason: str


def task_of_reply(desk: Desk, *, session: Session, mail: ParsedMail, case: Case) -> Task | None:
    """The task of `case` whose mail this one answers: only our own ids are looked up."""
    ours = "@" + message_id_domain(desk.settings.own_domain) + ">"
    ids = _our_ids([*mail.references, mail.in_reply_to or ""], ours)
    if not ids or case.id is None:
        return None
    statement = (
        select(Task)
        .where(Task.case_id == case.id)
        .where(col(Task.mail_message_id).in_(ids))
        .order_by(col(Task.id).desc())
    )
    return session.exec(statement).first()


def _our_ids(candidates: Sequence[str], ours: str) -> list[str]:
    return list(dict.fromkeys(i for i in candidates if i.lower().endswith(ours)))[-THREAD_IDS:]


def handle_task_reply(
    desk: Desk, *, session: Session, mail: ParsedMail, case: Case, now: datetime
) -> TaskReply | None:
    """Act on a mail answering one of the case's task mails; None when it answers none."""
    task = task_of_reply(desk, session=session, mail=mail, case=case)
    if task is None or task.id is None:
        return None
    inventory = inventory_source(desk.settings.inventory_file).current()
    system = inventory.get(task.system) if inventory is not None else None
    asked, owner = _asked(task, system)
    forged = "dmarc" in auth_failures(
        mail.authentication_results, trusted=desk.settings.trusted_authserv_id
    )
    sender = normalise_address(mail.sender) if mail.sender else ""
    # A From naming a second mailbox passes DMARC on the other one, or on none: not the asked.
    from_asked = bool(sender) and not mail.other_senders and sender == normalise_address(asked)
    if not from_asked or forged:
        return _flagged(desk, session=session, case=case, task=task, now=now, forged=forged)
    name = system.name if system is not None else task.system
    if task.state == OPEN:
        task.reply_at = now
        session.add(task)
    record_change(
        desk,
        session=session,
        case=case,
        now=now,
        actor="owner" if owner else "third_party",
        action="task_reply_received",
        details={"task": task.id, "system": task.system, "state": task.state},
    )
    _ask_to_confirm(desk, session=session, case=case, task=task, name=name, now=now)
    logger.info(
        "case=%s task %s: reply from the system's %s",
        case.reference,
        task.id,
        "owner" if owner else "contact",
    )
    who = f"the owner of {task.system}" if owner else task.system
    return TaskReply(task.id, ("task_reply",), f"reply from {who} to task {task.id}")


def _asked(task: Task, system: System | None) -> tuple[str, bool]:
    """The address the task's mail went to, and whether that was an owner's mail: a task
    assigned to a mail address was mailed there (the system's contact, the owner on record, or
    whom a person handed it to); a task now with someone in Slack keeps its contact's thread."""
    if task.assignee.startswith("slack:"):
        return (system.contact if system is not None else None) or "", False
    return task.assignee, system is not None and mails_owner(task, system)


def _flagged(
    desk: Desk, *, session: Session, case: Case, task: Task, now: datetime, forged: bool
) -> TaskReply:
    flag = "auth_dmarc_failed" if forged else "other_sender"
    audit(
        session,
        case,
        now=now,
        actor="third_party",
        action="mail_received",
        details={
            "notes": [f"answers task {task.id}, not from the address it was sent to; not acted on"]
        },
    )
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="thread_note",
        dedupe_key=f"slack:task-reply-flagged:{task.id}:{now.isoformat()}"[:255],
        now=now,
        payload={
            "text": f"Mail in the thread of task #{task.id} ({task.system}) from another address "
            f"than the one it was sent to; nothing changed / Mail bij taak #{task.id} van een "
            "ander adres dan waar de taak naartoe is gestuurd; niets gewijzigd"
        },
    )
    return TaskReply(
        task.id or 0,
        (flag, "task_reply_other_sender"),
        f"answers task {task.id} from another address than the one it was sent to; not acted on",
    )


def _ask_to_confirm(
    desk: Desk, *, session: Session, case: Case, task: Task, name: str, now: datetime
) -> None:
    """The case thread in Slack (the task's owner or the case's assignee mentioned), or a
    mail to the secretariat when Slack is off."""
    who = next((w for w in (task.assignee, case.assignee) if w and w.startswith("slack:")), "")
    mention = f"<@{who.removeprefix('slack:')}> " if who else ""
    text = (
        f"{mention}Reply received from {name} to task #{task.id}: read it and record the "
        f"result (dsr tasks done {task.id} --result R) / Antwoord ontvangen van {name} op taak "
        f"#{task.id}: lees het en leg het resultaat vast"
    )
    key = f"task-reply:{task.id}:{now.isoformat()}"
    if queue_slack(
        desk,
        session=session,
        case=case,
        kind="thread_note",
        dedupe_key=f"slack:{key}"[:255],
        now=now,
        payload={"text": text},
    ):
        return
    queue_mail(
        desk,
        session=session,
        case=case,
        template="task_reply",
        to=desk.settings.alert_address,
        now=now,
        context={"system": name, "task_id": task.id, "action": task.action},
        dedupe_key=f"mail:{key}"[:255],
        automatic=False,
        language=SECRETARIAT_LANGUAGE,
    )

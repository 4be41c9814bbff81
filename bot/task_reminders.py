"""Open tasks in the reminder ladder and the digest: the secretariat's reminders and the daily
digest name each case's open tasks and who has them, and a processor or recipient whose
answer date passed without a reply gets one reminder mail, recorded exactly once in
`reminder_sent` like the deadline reminders (step `task-<id>`, keyed by the answer date)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot.desk import Desk
from bot.inventory import Inventory
from bot.inventory_source import inventory_source
from bot.states import ACTIVE
from bot.task_lines import OpenTask
from bot.task_mail import queue_task_reminder
from storage.models import Task
from storage.reminders import record_steps
from storage.tasks import cases_with_open_tasks, open_tasks_of_cases, overdue_contact_tasks

logger = logging.getLogger("dsr.reminders")
ACTIVE_STATES = frozenset(str(s) for s in ACTIVE)
STEP_PREFIX = "task-"


@dataclass(frozen=True)
class CaseTasks:
    reference: str
    tasks: tuple[OpenTask, ...]


def _open(tasks: Sequence[Task], inventory: Inventory | None) -> tuple[OpenTask, ...]:
    def name(system_id: str) -> str:
        system = inventory.get(system_id) if inventory is not None else None
        return system.name if system is not None else system_id

    return tuple(OpenTask(name(t.system), t.assignee, t.reply_at is not None) for t in tasks)


def open_tasks_by_case(
    desk: Desk, *, session: Session, case_ids: Collection[int]
) -> dict[int, tuple[OpenTask, ...]]:
    """The open tasks of each case (for the reminders)."""
    inventory = inventory_source(desk.settings.inventory_file).current()
    found = open_tasks_of_cases(session=session, case_ids=case_ids)
    return {case_id: _open(tasks, inventory) for case_id, tasks in found.items()}


def digest_tasks(desk: Desk, *, session: Session, limit: int) -> tuple[int, tuple[CaseTasks, ...]]:
    """How many active cases wait for systems, and the first `limit` by due date."""
    inventory = inventory_source(desk.settings.inventory_file).current()
    count, rows = cases_with_open_tasks(session=session, case_states=ACTIVE_STATES, limit=limit)
    return count, tuple(CaseTasks(case.reference, _open(tasks, inventory)) for case, tasks in rows)


def remind_contacts(
    desk: Desk, *, session: Session, today: date, now: datetime, dry_run: bool
) -> list[str]:
    """One reminder mail per task whose answer date passed without a reply; returns the
    references reminded. The `reminder_sent` row is the exactly-once record."""
    inventory = inventory_source(desk.settings.inventory_file).current()
    if inventory is None:
        return []
    due = [
        (task, case)
        for task, case in overdue_contact_tasks(
            session=session, case_states=ACTIVE_STATES, before=today
        )
        if task.answer_by is not None and inventory.get(task.system) is not None
    ]
    if dry_run:
        return [case.reference for _, case in due]
    steps = [(case.id or 0, f"{STEP_PREFIX}{task.id}", task.answer_by) for task, case in due]
    won = record_steps(
        session=session, steps=[(c, s, d) for c, s, d in steps if d is not None], at=now
    )
    reminded = []
    for task, case in due:
        system = inventory.get(task.system)
        key = (case.id or 0, f"{STEP_PREFIX}{task.id}", task.answer_by)
        if system is None or key not in won:
            continue
        queue_task_reminder(desk, session=session, case=case, task=task, system=system, now=now)
        reminded.append(case.reference)
        logger.info("case=%s task %s: reminder to the contact queued", case.reference, task.id)
    return reminded

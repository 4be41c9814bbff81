"""One task as its owner sees it (the Slack direct message renders from this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.desk import Desk
from bot.inventory_source import inventory_source
from bot.notices import code_address
from bot.privacy import mask_address
from bot.task_mail import ask_by, results_for
from storage.models import Case, Task


@dataclass(frozen=True)
class TaskView:
    id: int
    reference: str
    system: str
    action: str
    state: str
    result: str | None
    assignee: str
    done_by: str | None
    person: str
    by: date
    instructions: str
    results: tuple[str, ...]


def task_view(desk: Desk, *, task_id: int, full_address: bool, now: datetime) -> TaskView | None:
    """The task with its case and system; the person's address masked unless the desk shows
    mail content in Slack (DSR_SLACK_SHOW_BODY)."""
    with desk.reading() as session:
        task = session.get(Task, task_id)
        case = session.get(Case, task.case_id) if task is not None else None
        if task is None or case is None:
            return None
        address = code_address(session, case)
    inventory = inventory_source(desk.settings.inventory_file).current()
    system = inventory.get(task.system) if inventory is not None else None
    return TaskView(
        id=task_id,
        reference=case.reference,
        system=system.name if system is not None else task.system,
        action=task.action,
        state=task.state,
        result=task.result,
        assignee=task.assignee,
        done_by=task.done_by,
        person=address if full_address else mask_address(address),
        by=task.answer_by or ask_by(case, today=now.astimezone(desk.tz).date()),
        instructions=" ".join(system.instructions.split()) if system is not None else "",
        results=tuple(results_for(task.action)),
    )


def task_assignee(desk: Desk, *, task_id: int) -> str | None:
    with desk.reading() as session:
        task = session.get(Task, task_id)
        return task.assignee if task is not None else None


def remember_task_dm(desk: Desk, *, task_id: int, channel: str, ts: str) -> None:
    """Where the owner's direct message lives, to update it when the task is done."""
    with desk.transaction() as session:
        task = session.get(Task, task_id)
        if task is not None:
            task.slack_channel, task.slack_ts = channel, ts
            session.add(task)

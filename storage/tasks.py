"""Queries on tasks, the work each system owes a case (keyword-only, in the caller's
transaction)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import Case, Task

OPEN, DONE, NOT_APPLICABLE = "open", "done", "not_applicable"


class TaskRow(NamedTuple):
    task: Task
    reference: str


def tasks_of_case(*, session: Session, case_id: int) -> list[Task]:
    statement = select(Task).where(Task.case_id == case_id).order_by(col(Task.id))
    return list(session.exec(statement).all())


def add_task(
    *, session: Session, case_id: int, system: str, action: str, assignee: str, now: datetime
) -> Task:
    task = Task(
        case_id=case_id,
        system=system,
        action=action,
        state=OPEN,
        assignee=assignee,
        created_at=now,
    )
    session.add(task)
    session.flush()
    return task


def find_tasks(
    *,
    session: Session,
    reference: str | None = None,
    states: Collection[str] | None = None,
    case_states: Collection[str] | None = None,
) -> Sequence[TaskRow]:
    """Tasks with their case's reference, by case and task id."""
    statement = select(Task, Case.reference).join(Case, col(Case.id) == col(Task.case_id))
    if reference is not None:
        statement = statement.where(Case.reference == reference.strip().upper())
    if states is not None:
        statement = statement.where(col(Task.state).in_(list(states)))
    if case_states is not None:
        statement = statement.where(col(Case.state).in_(list(case_states)))
    statement = statement.order_by(col(Task.case_id), col(Task.id))
    return [TaskRow(task, ref) for task, ref in session.exec(statement).all()]


def lock_task(*, session: Session, task_id: int) -> Task | None:
    """Load a task for change: the row stays locked until commit (SQLite writes FOR UPDATE
    as nothing; its write transaction already holds the database)."""
    statement = select(Task).where(Task.id == task_id)
    return session.exec(statement.with_for_update()).first()


def count_answered(*, session: Session, case_id: int) -> tuple[int, int]:
    """(systems answered, systems asked) for a case, not-applicable tasks left out."""
    rows = session.exec(
        select(Task.system, Task.state).where(Task.case_id == case_id, Task.state != NOT_APPLICABLE)
    ).all()
    asked = {system for system, _ in rows}
    waiting = {system for system, state in rows if state == OPEN}
    return len(asked - waiting), len(asked)


def clear_task_notes(*, session: Session, case_id: int) -> None:
    """The retention purge: a task's note may hold personal text; the result stays."""
    session.exec(update(Task).where(col(Task.case_id) == case_id).values(note=None))


def open_tasks_of_cases(*, session: Session, case_ids: Collection[int]) -> dict[int, list[Task]]:
    """The open tasks of each of `case_ids` (the reminders name them)."""
    found: dict[int, list[Task]] = {case_id: [] for case_id in case_ids}
    if not case_ids:
        return found
    statement = (
        select(Task)
        .where(col(Task.case_id).in_(sorted(case_ids)), Task.state == OPEN)
        .order_by(col(Task.case_id), col(Task.id))
    )
    for task in session.exec(statement).all():
        found[task.case_id].append(task)
    return found


def cases_with_open_tasks(
    *, session: Session, case_states: Collection[str], limit: int
) -> tuple[int, list[tuple[Case, list[Task]]]]:
    """How many active cases have open tasks, and the first `limit` of them by due date, each
    with its open tasks (the digest)."""
    has_open = (
        select(Task.case_id).where(Task.state == OPEN).where(col(Task.case_id) == col(Case.id))
    ).exists()
    where = (col(Case.state).in_(list(case_states)), has_open)
    count = session.exec(select(func.count()).select_from(Case).where(*where)).one()
    due = func.coalesce(col(Case.extended_due), col(Case.due))
    cases = session.exec(select(Case).where(*where).order_by(due, col(Case.id)).limit(limit)).all()
    tasks = open_tasks_of_cases(session=session, case_ids=[c.id for c in cases if c.id])
    return int(count), [(case, tasks.get(case.id or 0, [])) for case in cases]


def overdue_contact_tasks(
    *, session: Session, case_states: Collection[str], before: date
) -> Sequence[tuple[Task, Case]]:
    """Open tasks asked of a contact by mail whose answer date is before `before` and that
    have no reply yet (the processor reminder)."""
    statement = (
        select(Task, Case)
        .join(Case, col(Case.id) == col(Task.case_id))
        .where(Task.state == OPEN)
        .where(col(Task.mail_message_id).is_not(None))
        .where(col(Task.reply_at).is_(None))
        .where(col(Task.answer_by) < before)
        .where(col(Case.state).in_(list(case_states)))
        .order_by(col(Task.id))
    )
    return list(session.exec(statement).all())

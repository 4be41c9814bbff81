"""The task actions, shared by the terminal and Slack: list a case's tasks, record a task's
result, hand a task to someone else. Each change is recorded on its case (version, audit trail,
Slack update) through bot.cases.record_change, in one transaction with the task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.cases import ActionRefused, UnknownCase, record_change
from bot.desk import Desk
from bot.export_check import ExportFile
from bot.exports import EXPORTED, check_files, ensure_export_task, store_exports
from bot.fulfilment import check_result
from bot.inventory import valid_owner
from bot.states import ACTIVE, CLOSED
from bot.task_mail import tell_people
from storage.cases import get_case_by_reference, lock_case
from storage.models import Case, Task
from storage.tasks import DONE, OPEN, TaskRow, count_answered, find_tasks, lock_task


class UnknownTask(LookupError):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"unknown task {task_id}; see dsr tasks list")
        self.task_id = task_id


def task_json(row: TaskRow) -> dict[str, Any]:
    """The outside shape of a task (`dsr tasks list --json`)."""
    task = row.task
    return {
        "id": task.id,
        "case": row.reference,
        "system": task.system,
        "action": task.action,
        "state": task.state,
        "assignee": task.assignee,
        "result": task.result,
        "reply_received": task.reply_at is not None,
    }


def list_tasks(
    desk: Desk, *, reference: str | None = None, open_only: bool = False
) -> Sequence[TaskRow]:
    """The tasks of one case, or of every active case."""
    with desk.reading() as session:
        rows = find_tasks(
            session=session,
            reference=reference,
            states=(OPEN,) if open_only else None,
            case_states=None if reference else {str(s) for s in ACTIVE},
        )
        if reference is not None and not rows and not _case_exists(session, reference):
            raise UnknownCase(reference)
        return rows


def tasks_for_case(desk: Desk, *, reference: str) -> Sequence[TaskRow]:
    return list_tasks(desk, reference=reference)


def _case_exists(session: Session, reference: str) -> bool:
    return get_case_by_reference(session=session, reference=reference) is not None


def task_done(
    desk: Desk,
    *,
    task_id: int,
    result: str,
    note: str | None,
    actor: str,
    now: datetime,
    files: Sequence[ExportFile] = (),
    source: str = "cli",
) -> Task:
    """Record what the system's owner did; the note (sealed) says more when needed. `files`
    (result `exported` only) are checked first and stored sealed with the result, or nothing
    is (bot.exports)."""
    if files and result != EXPORTED:
        raise ActionRefused(f"task {task_id}: files go with --result {EXPORTED}")
    checked = check_files(files, max_bytes=desk.settings.export_max_bytes)

    def change(session: Session, case: Case, task: Task) -> dict[str, object]:
        if task.state != OPEN:
            raise ActionRefused(f"task {task_id} is {task.state}; only an open task can be done")
        try:
            task.result = check_result(task.action, result)
        except ValueError as exc:
            raise ActionRefused(f"task {task_id}: {exc}") from None
        if checked:
            ensure_export_task(task)
        task.state, task.done_at, task.done_by = DONE, now, actor
        task.note = (note or "").strip() or None
        details: dict[str, object] = {"task": task_id, "system": task.system}
        details["result"] = task.result
        if checked:
            details["files"] = store_exports(
                session=session,
                case=case,
                task=task,
                files=checked,
                source=source,
                actor=actor,
                now=now,
            )
        if task.note:
            details["note"] = task.note
        return details

    return _change_task(desk, task_id=task_id, now=now, actor=actor, action="task_done", fn=change)


def task_reassign(desk: Desk, *, task_id: int, assignee: str, actor: str, now: datetime) -> Task:
    """Hand an open task to someone else (a Slack user `slack:U…` or a mail address)."""
    who = assignee.strip()
    if not valid_owner(who):
        raise ActionRefused(f"{assignee!r} is not slack:U… or a mail address")

    def change(session: Session, case: Case, task: Task) -> dict[str, object]:
        if task.state != OPEN:
            raise ActionRefused(f"task {task_id} is {task.state}; only an open task moves")
        task.assignee = who
        return {"task": task_id, "system": task.system}

    return _change_task(
        desk, task_id=task_id, now=now, actor=actor, action="task_reassigned", fn=change
    )


def task_add_exports(
    desk: Desk,
    *,
    task_id: int,
    files: Sequence[ExportFile],
    actor: str,
    now: datetime,
    source: str,
) -> Task:
    """Store more files on an export task done as exported (or still open: then it is done
    with them, result `exported`). Checked first; one refused file stores nothing."""
    checked = check_files(files, max_bytes=desk.settings.export_max_bytes)
    if not checked:
        raise ActionRefused(f"task {task_id}: no files given")

    def change(session: Session, case: Case, task: Task) -> dict[str, object]:
        ensure_export_task(task)
        details: dict[str, object] = {"task": task_id, "system": task.system}
        if task.state == OPEN:
            task.state, task.result, task.done_at, task.done_by = DONE, EXPORTED, now, actor
            details["result"] = EXPORTED
        details["files"] = store_exports(
            session=session,
            case=case,
            task=task,
            files=checked,
            source=source,
            actor=actor,
            now=now,
        )
        return details

    return _change_task(
        desk, task_id=task_id, now=now, actor=actor, action="task_exports_added", fn=change
    )


def _change_task(
    desk: Desk,
    *,
    task_id: int,
    now: datetime,
    actor: str,
    action: str,
    fn: Callable[[Session, Case, Task], dict[str, object]],
) -> Task:
    with desk.transaction() as session:
        found = session.get(Task, task_id)
        if found is None:
            raise UnknownTask(task_id)
        owner = session.get(Case, found.case_id)
        case = lock_case(session=session, reference=owner.reference) if owner else None
        task = lock_task(session=session, task_id=task_id)
        if case is None or task is None:
            raise UnknownTask(task_id)
        if case.state in CLOSED:
            raise ActionRefused(f"case {case.reference} is closed; its tasks no longer change")
        shown = (task.slack_channel, task.slack_ts, task.assignee)
        details = fn(session, case, task)
        session.add(task)
        record_change(
            desk, session=session, case=case, now=now, actor=actor, action=action, details=details
        )
        tell_people(desk, session=session, case=case, task=task, shown=shown, now=now)
        return task


def systems_answered(desk: Desk, *, case_id: int | None) -> tuple[int, int]:
    """(systems answered, systems asked) for the case's Slack message: "3 of 5"."""
    if case_id is None:
        return (0, 0)
    with desk.reading() as session:
        return count_answered(session=session, case_id=case_id)

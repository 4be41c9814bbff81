"""Queries on task exports, the files a system's owner exported for a case (keyword-only, in
the caller's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import Case, TaskExport


def add_export(
    *,
    session: Session,
    task_id: int,
    case_id: int,
    system: str,
    name: str,
    kind: str,
    content: bytes,
    sha256: str,
    source: str,
    actor: str,
    now: datetime,
) -> TaskExport:
    export = TaskExport(
        task_id=task_id,
        case_id=case_id,
        system=system,
        name=name,
        kind=kind,
        size=len(content),
        sha256=sha256,
        content=content,
        source=source,
        added_at=now,
        added_by=actor,
    )
    session.add(export)
    session.flush()
    return export


def export_digests(*, session: Session, task_id: int) -> set[str]:
    """The SHA-256 of every file already stored for a task (the same file twice is one)."""
    statement = select(TaskExport.sha256).where(TaskExport.task_id == task_id)
    return set(session.exec(statement).all())


def exports_of_case(*, session: Session, case_id: int) -> list[TaskExport]:
    """Every stored export of a case, content included, by task and arrival."""
    statement = (
        select(TaskExport)
        .where(TaskExport.case_id == case_id)
        .order_by(col(TaskExport.task_id), col(TaskExport.id))
    )
    return list(session.exec(statement).all())


def delete_case_exports(*, session: Session, case_id: int) -> None:
    """The retention purge: the copies of the person's data go entirely."""
    session.exec(delete(TaskExport).where(col(TaskExport.case_id) == case_id))


def case_by_slack_thread(*, session: Session, channel: str, thread_ts: str) -> Case | None:
    """The case whose Slack message starts the thread `thread_ts` in `channel`."""
    statement = select(Case).where(Case.slack_channel == channel, Case.slack_ts == thread_ts)
    return session.exec(statement).first()

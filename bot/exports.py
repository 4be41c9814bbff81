"""Storing the files a system's owner exported for an access or portability request: checked
(bot/export_check.py), sealed in the database (`task_export`) in the transaction that records
the task's change, one audit event per file (type, size and SHA-256; never its name or
content). The terminal (`dsr tasks done --file`) and Slack (a file shared in the case's
thread) both come here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.cases import ActionRefused, audit
from bot.export_check import CheckedExport, ExportFile, check_export
from storage.exports import add_export, export_digests
from storage.models import Case, Task
from storage.tasks import DONE, OPEN

logger = logging.getLogger("dsr.exports")
EXPORT_ACTION = "search_export"
EXPORTED = "exported"


def check_files(files: Sequence[ExportFile], *, max_bytes: int) -> list[CheckedExport]:
    """Every file checked before anything is stored: one refused file refuses them all."""
    return [check_export(f, max_bytes=max_bytes) for f in files]


def ensure_export_task(task: Task) -> None:
    """Files belong to an export task (access, portability) that is open or done as exported."""
    if task.action != EXPORT_ACTION:
        raise ActionRefused(
            f"task {task.id} is {task.system} {task.action}; files go only with an export "
            "task (search_export, for access and portability)"
        )
    if task.state == DONE and task.result == EXPORTED:
        return
    if task.state != OPEN:
        raise ActionRefused(
            f"task {task.id} is {task.state} ({task.result or '-'}); files can be added to an "
            "open export task or one done as exported"
        )


def store_exports(
    *,
    session: Session,
    case: Case,
    task: Task,
    files: Sequence[CheckedExport],
    source: str,
    actor: str,
    now: datetime,
) -> int:
    """Store checked files on the task (in the caller's transaction, case and task locked);
    a file already stored for this task is skipped. Returns how many were new."""
    if case.id is None or task.id is None:
        raise ActionRefused("the case or task has not been saved")
    seen = export_digests(session=session, task_id=task.id)
    stored = 0
    for file in files:
        if file.sha256 in seen:
            continue
        seen.add(file.sha256)
        add_export(
            session=session,
            task_id=task.id,
            case_id=case.id,
            system=task.system,
            name=file.name,
            kind=file.kind,
            content=file.data,
            sha256=file.sha256,
            source=source,
            actor=actor,
            now=now,
        )
        audit(
            session,
            case,
            now=now,
            actor=actor,
            action="export_stored",
            details={
                "task": task.id,
                "system": task.system,
                "type": file.kind,
                "size": len(file.data),
                "sha256": file.sha256,
                "source": source,
            },
        )
        stored += 1
    logger.info(
        "case=%s task=%d exports stored: %d new of %d", case.reference, task.id, stored, len(files)
    )
    return stored

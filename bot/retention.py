"""Keeping personal data only as long as needed: the purge and the register of requests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, delete, select

from bot.breach_register import purge_breaches
from bot.desk import Desk
from bot.states import CLOSED
from storage.audit import append_event, clear_notes
from storage.exports import delete_case_exports
from storage.models import Case, IdentityCheck, Message, OutboxItem, ReviewItem
from storage.tasks import clear_task_notes

logger = logging.getLogger("dsr.retention")
PURGED = "purged"
# Removes files older than the cutoff (when the flag is false) and says how many there are:
# the sent copies in the Maildir outbox, which the edge that writes them knows how to find.
OldFiles = Callable[[datetime, bool], int]


@dataclass(frozen=True)
class PurgeReport:
    cases: tuple[str, ...]
    loose_messages: int
    dry_run: bool
    files: int = 0
    breaches: tuple[str, ...] = ()


def purge(
    desk: Desk,
    *,
    now: datetime,
    dry_run: bool = False,
    actor: str = "system",
    old_files: OldFiles | None = None,
) -> PurgeReport:
    """Strip bodies, attachments, addresses and notes (those of the audit events too) from
    cases closed longer than the retention period, and from mail without a case (ignored or
    quarantined) received that long ago; `old_files` removes sent copies written that long ago.
    An anonymous line per case stays: kind, dates, outcome (for the register), and each audit
    event keeps its action, actor and time (GDPR art. 5(1)(e): kept no longer than needed)."""
    cutoff = now - timedelta(days=desk.settings.retention_days)
    files = old_files(cutoff, dry_run) if old_files is not None else 0
    with desk.transaction() as session:
        closed = session.exec(
            select(Case)
            .where(col(Case.state).in_([str(s) for s in CLOSED]))
            .where(col(Case.closed_at) < cutoff)
        ).all()
        cases = [c for c in closed if PURGED not in c.flags]
        loose = session.exec(
            select(func.count())
            .select_from(Message)
            .where(col(Message.case_id).is_(None))
            .where(col(Message.at) < cutoff)
            .where(col(Message.purged_at).is_(None))
        ).one()
        references = tuple(c.reference for c in cases)
        breaches = tuple(
            purge_breaches(session, cutoff=cutoff, now=now, actor=actor, dry_run=dry_run)
        )
        if dry_run:
            return PurgeReport(references, loose, dry_run=True, files=files, breaches=breaches)
        for case in cases:
            _purge_case(session, case, now=now, actor=actor)
        session.exec(
            update(Message)
            .where(col(Message.case_id).is_(None))
            .where(col(Message.at) < cutoff)
            .where(col(Message.purged_at).is_(None))
            .values(raw=b"", subject="", sender="", purged_at=now)
        )
        # A review item of such mail keeps its guess and dates, not the words or the note.
        session.exec(
            update(ReviewItem)
            .where(col(ReviewItem.case_id).is_(None))
            .where(col(ReviewItem.received_at) < cutoff)
            .values(evidence=[], note=None)
        )
        if loose:
            append_event(
                session=session,
                at=now,
                actor=actor,
                action="purged_loose_mail",
                details={"messages": loose},
            )
    logger.info("purge cases=%d loose_messages=%d files=%d", len(references), loose, files)
    return PurgeReport(references, loose, dry_run=False, files=files, breaches=breaches)


def _purge_case(session: Session, case: Case, *, now: datetime, actor: str) -> None:
    session.exec(
        update(Message)
        .where(col(Message.case_id) == case.id)
        .values(raw=b"", subject="", sender="", purged_at=now)
    )
    session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.case_id) == case.id)
        .values(payload=b"", recipient="")
    )
    session.exec(delete(IdentityCheck).where(col(IdentityCheck.case_id) == case.id))
    if case.id is not None:
        clear_notes(session=session, case_id=case.id)
        clear_task_notes(session=session, case_id=case.id)
        delete_case_exports(session=session, case_id=case.id)
    case.requester, case.requester_key, case.evidence = "", "", []
    case.outcome_note, case.extension_reason = None, None
    case.flags = sorted({*case.flags, PURGED})
    session.add(case)
    append_event(
        session=session,
        at=now,
        actor=actor,
        action="purged",
        case_id=case.id,
        reference=case.reference,
        details={},
    )


REGISTER_COLUMNS = (
    "reference",
    "kind",
    "received",
    "due",
    "extended_due",
    "answered",
    "on_time",
    "extended",
    "outcome",
)


def register_rows(desk: Desk) -> Iterator[dict[str, Any]]:
    """The register of requests, one anonymous row per case: the accountability record."""
    with desk.transaction() as session:
        for case in session.exec(select(Case).order_by(col(Case.id))).all():
            answered: date | None = (
                case.closed_at.astimezone(desk.tz).date() if case.closed_at else None
            )
            due = case.extended_due or case.due
            yield {
                "reference": case.reference,
                "kind": case.category,
                "received": case.received_at.astimezone(desk.tz).date().isoformat(),
                "due": case.due.isoformat(),
                "extended_due": case.extended_due.isoformat() if case.extended_due else "",
                "answered": answered.isoformat() if answered else "",
                "on_time": "" if answered is None else ("yes" if answered <= due else "no"),
                "extended": "yes" if case.extended_due else "no",
                "outcome": case.state if case.state in CLOSED else "",
            }


def scheduled_purge(
    desk: Desk, *, clock: Callable[[], datetime], old_files: OldFiles | None = None
) -> Callable[[], Awaitable[None]]:
    """The purge as `dsr serve`'s scheduler runs it: at most once per local day."""
    last_day: list[date] = []

    async def retention() -> None:
        now = clock()
        today = now.astimezone(desk.tz).date()
        if last_day and last_day[0] == today:
            return
        await asyncio.to_thread(purge, desk, now=now, old_files=old_files)
        last_day[:] = [today]

    return retention

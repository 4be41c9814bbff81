"""The audit trail for the authority or the data subject: filtered rows as CSV-ready dicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.desk import Desk
from storage.audit import append_event
from storage.models import AuditEvent

AUDIT_COLUMNS = ("id", "at", "actor", "action", "case", "details", "note", "hash")


def audit_rows(
    desk: Desk,
    *,
    reference: str | None,
    start: datetime | None,
    end: datetime | None,
    actor: str,
    now: datetime,
) -> Iterator[dict[str, Any]]:
    """Yield the matching events, oldest first; the export itself is an audited event. A note
    appears until the retention purge clears it (the event, actor and time stay)."""
    with desk.transaction() as session:
        statement = select(AuditEvent).order_by(col(AuditEvent.id))
        if reference:
            statement = statement.where(AuditEvent.reference == reference.strip().upper())
        if start:
            statement = statement.where(col(AuditEvent.at) >= start)
        if end:
            statement = statement.where(col(AuditEvent.at) < end)
        for event in session.exec(statement).yield_per(1000):
            yield {
                "id": event.id,
                "at": event.at.astimezone(desk.tz).isoformat(),
                "actor": event.actor,
                "action": event.action,
                "case": event.reference or "",
                "details": json.dumps(event.details, ensure_ascii=False, sort_keys=True),
                "note": event.note or "",
                "hash": event.hash,
            }
    with desk.transaction() as session:
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="audit_exported",
            reference=reference,
            details={"from": str(start), "to": str(end)},
        )

"""Cases as the JSON shapes `dsr cases list/show --json` print (docs/cli.md); Slack and the
terminal render from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.deadline import days_left
from bot.privacy import mask_address
from bot.states import CLOSED
from storage.models import AuditEvent, Case, Message


def case_summary(case: Case, *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    due = case.extended_due or case.due
    active = case.state not in CLOSED
    left = days_left(due=due, now=now, tz=tz)
    return {
        "reference": case.reference,
        "state": case.state,
        "category": case.category,
        "also": list(case.also),
        "language": case.language,
        "requester": mask_address(case.requester),
        "received_at": case.received_at.astimezone(tz).isoformat(),
        "due": case.due.isoformat(),
        "extended_due": case.extended_due.isoformat() if case.extended_due else None,
        "verified": case.verified_at is not None,
        "assignee": case.assignee,
        "needs_triage": case.needs_triage,
        "flags": list(case.flags),
        "days_left": left if active else None,
        "overdue": active and left < 0,
    }


def case_detail(case: Case, *, session: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    messages = session.exec(
        select(Message).where(Message.case_id == case.id).order_by(col(Message.at))
    ).all()
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(col(AuditEvent.id))
    ).all()
    return {
        **case_summary(case, now=now, tz=tz),
        "verified_at": case.verified_at.astimezone(tz).isoformat() if case.verified_at else None,
        "extension_reason": case.extension_reason,
        "client_may_be_informed": case.client_may_be_informed,
        "closed_at": case.closed_at.astimezone(tz).isoformat() if case.closed_at else None,
        "confidence": case.confidence,
        "evidence": list(case.evidence),
        "messages": [
            {
                "direction": m.direction,
                "at": m.at.astimezone(tz).isoformat(),
                "subject": m.subject,
                "message_id": m.message_id,
                "flags": list(m.flags),
            }
            for m in messages
        ],
        "events": [
            {
                "at": e.at.astimezone(tz).isoformat(),
                "actor": e.actor,
                "action": e.action,
                "details": e.details,
            }
            for e in events
        ],
    }

"""The breach register (GDPR art. 33(5)): every breach, notified or not, with its facts, its
effects and the measures taken; and what retention removes from a decided breach."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot.breach_facts import ITEMS
from bot.breaches import DECIDED, due_of, facts_of
from bot.desk import Desk
from storage.audit import append_event
from storage.breaches import list_breaches, list_updates
from storage.models import Breach, Message

PURGED = "purged"
REGISTER_COLUMNS = (
    "reference",
    "state",
    "source",
    "processor",
    "received_at",
    "aware_at",
    "due",
    *ITEMS,
    "ap_notified",
    "ap_number",
    "risk_assessment",
    "subjects_told",
    "subjects_reasons",
    "decided_at",
    "decided_by",
    "updates",
)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def register_rows(desk: Desk) -> Iterator[dict[str, Any]]:
    """One row per breach, oldest first; times in the desk's time zone."""
    with desk.reading() as session:
        for breach in list_breaches(session=session):
            facts = facts_of(breach)
            updates = list_updates(session=session, breach_id=breach.id or 0)
            tz = desk.tz
            yield {
                "reference": breach.reference,
                "state": breach.state,
                "source": breach.source,
                "processor": breach.processor or "",
                "received_at": breach.received_at.astimezone(tz).isoformat(),
                "aware_at": breach.aware_at.astimezone(tz).isoformat(),
                "due": due_of(breach).astimezone(tz).isoformat(),
                **{item: (facts[item]["value"] if facts.get(item) else "") for item in ITEMS},
                "ap_notified": _yes_no(breach.ap_notified),
                "ap_number": breach.ap_number or "",
                "risk_assessment": breach.risk or "",
                "subjects_told": _yes_no(breach.subjects_told),
                "subjects_reasons": breach.subjects_reasons or "",
                "decided_at": breach.decided_at.astimezone(tz).isoformat()
                if breach.decided_at
                else "",
                "decided_by": breach.decided_by or "",
                "updates": " | ".join(
                    f"{u.at.astimezone(tz):%Y-%m-%d %H:%M} {u.text}" for u in updates
                ),
            }


def purge_breaches(
    session: Session, *, cutoff: datetime, now: datetime, actor: str, dry_run: bool
) -> list[str]:
    """Breaches decided before `cutoff` lose the reporter's address and name and their
    notice's stored mail; the register's facts, assessment and decisions stay (art. 33(5)
    asks the firm to document every breach). The references purged."""
    decided = [
        b
        for b in list_breaches(session=session, states=(DECIDED,))
        if b.decided_at is not None and b.decided_at < cutoff and PURGED not in b.flags
    ]
    if dry_run:
        return [b.reference for b in decided]
    for breach in decided:
        _purge(session, breach, now=now, actor=actor)
    return [b.reference for b in decided]


def _purge(session: Session, breach: Breach, *, now: datetime, actor: str) -> None:
    if breach.message_id is not None:
        session.exec(
            update(Message)
            .where(col(Message.id) == breach.message_id)
            .values(raw=b"", subject="", sender="", purged_at=now)
        )
    breach.reporter, breach.reporter_name = "", ""
    breach.flags = sorted({*breach.flags, PURGED})
    session.add(breach)
    append_event(session=session, at=now, actor=actor, action="purged", reference=breach.reference)

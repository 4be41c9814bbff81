"""The audit trail: append-only rows chained by SHA-256 (each row hashes the previous one)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from storage.models import AuditEvent

GENESIS = "0" * 64
_CHAIN_LOCK = 0x44535201  # PostgreSQL advisory lock id serialising appends to the chain
_LAST_HASH = "dsr_audit_last_hash"
# Built once: building and keying a statement costs more than running it.
_HEAD = select(col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1)
_APPEND = insert(AuditEvent)
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def _digest(
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    case_id: int | None,
    reference: str | None,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "case_id": case_id,
            "reference": reference,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append_event(
    *,
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    case_id: int | None = None,
    reference: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event in the caller's transaction (it commits together with the change)."""
    connection = session.connection()
    transaction = session.get_transaction()
    cached = session.info.get(_LAST_HASH)
    prev_hash = cached[1] if cached is not None and cached[0] is transaction else None
    if prev_hash is None:
        # First event of this transaction: take the chain (PostgreSQL; SQLite already holds
        # the write lock) and read its end; later events of the same transaction follow on.
        if connection.dialect.name == "postgresql":
            connection.execute(_LOCK, {"k": _CHAIN_LOCK})
        prev_hash = connection.execute(_HEAD).scalar() or GENESIS
    row: dict[str, Any] = {
        "at": at,
        "actor": actor,
        "action": action,
        "case_id": case_id,
        "reference": reference,
        "details": details or {},
    }
    row["hash"] = _digest(prev_hash, **row)
    row["prev_hash"] = prev_hash
    # A plain INSERT, not an ORM object: the row is written once and never changed.
    connection.execute(_APPEND, row)
    session.info[_LAST_HASH] = (transaction, row["hash"])


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    at: datetime
    problem: str


def iter_events(*, session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.id) > last_id)
            .order_by(col(AuditEvent.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id or last_id


def verify_chain(*, session: Session) -> tuple[int, ChainBreak | None]:
    """Walk the chain; return how many rows were checked and the first that does not match."""
    expected_prev = GENESIS
    count = 0
    for event in iter_events(session=session):
        count += 1
        event_id = event.id or 0
        if event.prev_hash != expected_prev:
            return count, ChainBreak(event_id, event.at, "previous hash does not match")
        content = _digest(
            event.prev_hash,
            at=event.at,
            actor=event.actor,
            action=event.action,
            case_id=event.case_id,
            reference=event.reference,
            details=event.details,
        )
        if content != event.hash:
            return count, ChainBreak(event_id, event.at, "row content does not match its hash")
        expected_prev = event.hash
    return count, None

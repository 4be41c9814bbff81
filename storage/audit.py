"""The audit trail: append-only rows chained by SHA-256 (each row hashes the previous one)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.event import listens_for
from sqlmodel import Session, col, select

from storage.models import AuditEvent
from storage.prepared import Prepared

GENESIS = "0" * 64
_CHAIN_LOCK = 0x44535201  # PostgreSQL advisory lock id serialising appends to the chain
_CHAIN = "dsr_audit_chain"
# Built once: building and keying a statement costs more than running it.
_HEAD = Prepared(select(col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1))
_APPEND = Prepared(insert(AuditEvent))
_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(:k)"))


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


@dataclass
class _Chain:
    """The chain as one transaction extends it: its end, and the events to write at commit."""

    transaction: object
    head: str
    rows: list[dict[str, Any]]


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
    """Add one event in the caller's transaction (it commits together with the change).

    The events of a transaction are written together just before it commits (one statement
    instead of one per event); nothing reads the trail inside the transaction that extends it.
    """
    connection = session.connection()  # begins the transaction when nothing else has yet
    transaction = session.get_transaction()
    chain = session.info.get(_CHAIN)
    if chain is None or chain.transaction is not transaction:
        # First event of this transaction: take the chain (PostgreSQL; SQLite already holds
        # the write lock) and read its end; later events of the same transaction follow on.
        if connection.dialect.name == "postgresql":
            _LOCK.rows(session, {"k": _CHAIN_LOCK})
        head = _HEAD.scalar(session) or GENESIS
        chain = session.info[_CHAIN] = _Chain(transaction, head, [])
    row: dict[str, Any] = {
        "at": at,
        "actor": actor,
        "action": action,
        "case_id": case_id,
        "reference": reference,
        "details": details or {},
    }
    row["hash"] = _digest(chain.head, **row)
    row["prev_hash"] = chain.head
    # What is hashed is what is stored, whatever the caller does with `details` afterwards.
    row["details"] = json.loads(json.dumps(row["details"]))
    chain.rows.append(row)
    chain.head = row["hash"]


@listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    """The transaction's events, in the order they were appended (plain INSERTs: the rows are
    written once and never changed)."""
    chain = session.info.get(_CHAIN)
    if chain is None or not chain.rows or chain.transaction is not session.get_transaction():
        return
    rows, chain.rows = chain.rows, []
    _APPEND.run_many(session, rows)


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

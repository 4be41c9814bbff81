"""The inbound mail's own row through intake: stored and routed in one transaction.

Intake recognises a mail with no transaction open, then stores it and routes it in one
transaction. A row still `received` (routing failed on the mail, so it was stored alone): the
next delivery of the same mail claims and routes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.engine import insert_for
from storage.models import Message

RECEIVED = "received"


def _insert_new(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: one statement stores a new mail and
    says, by returning no row, that the same mail was stored before."""
    maker = insert_for(dialect)
    return (
        maker(Message)
        .on_conflict_do_nothing(index_elements=["direction", "dedupe_key"])
        .returning(col(Message.id))
    )


_ADD_RECEIVED = {name: _insert_new(name) for name in ("sqlite", "postgresql")}


def add_received(
    *,
    session: Session,
    dedupe_key: str,
    message_id: str | None,
    at: datetime,
    subject: str,
    sender: str,
    raw: bytes,
    flags: Sequence[str],
) -> int | None:
    """Store an inbound mail before it is routed (action `received`); returns its row id, or
    None when a mail with this dedupe key is stored already."""
    dialect = session.get_bind().dialect.name
    row_id = session.execute(
        _ADD_RECEIVED[dialect],
        {
            "direction": "in",
            "dedupe_key": dedupe_key,
            "message_id": message_id,
            "at": at,
            "subject": subject,
            "sender": sender,
            "size": len(raw),
            "action": RECEIVED,
            "reason": "stored; not yet routed",
            "flags": list(flags),
            "raw": raw,
        },
    ).scalar_one_or_none()
    return None if row_id is None else int(row_id)


def claim_received(*, session: Session, message_row_id: int) -> bool:
    """Lock the stored row for routing; False when another delivery has routed it already."""
    action = session.exec(
        select(col(Message.action)).where(col(Message.id) == message_row_id).with_for_update()
    ).first()
    return action == RECEIVED


def finish_received(
    *,
    session: Session,
    message_row_id: int,
    case_id: int | None,
    action: str,
    reason: str,
    flags: Sequence[str],
) -> None:
    """Record what routing decided about the stored row (the mail itself is not rewritten)."""
    session.execute(
        update(Message)
        .where(col(Message.id) == message_row_id)
        .values(case_id=case_id, action=action, reason=reason, flags=list(flags))
    )

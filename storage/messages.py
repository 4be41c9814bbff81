"""Queries on stored mail."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert
from sqlmodel import Session, col, select

from storage.models import Case, Message

_STORED = (
    select(col(Message.id), col(Message.action), col(Message.at), col(Case.reference))
    .outerjoin(Case, col(Case.id) == col(Message.case_id))
    .where(col(Message.direction) == bindparam("direction"))
    .where(col(Message.dedupe_key) == bindparam("dedupe_key"))
)
# On the table (Core), not the class: a plain INSERT without the ORM's bulk-insert machinery.
_ADD = insert(Message.__table__)  # type: ignore[attr-defined]
_OURS = (
    select(col(Message.id))
    .where(col(Message.direction) == "out")
    .where(col(Message.message_id) == bindparam("message_id"))
    .limit(1)
)


class Stored(NamedTuple):
    """A mail stored before: its row, what intake did with it (`received`: stored, not yet
    routed), when it was stored, and the reference of its case, if it has one."""

    id: int
    action: str
    at: datetime
    reference: str | None


def find_stored(*, session: Session, direction: str, dedupe_key: str) -> Stored | None:
    """The dedupe check: whether this mail is stored already (nothing sealed is read)."""
    params = {"direction": direction, "dedupe_key": dedupe_key}
    row = session.execute(_STORED, params).first()
    if row is None or row[0] is None:
        return None
    return Stored(row[0], row[1], row[2], row[3])


def add_message(
    *,
    session: Session,
    direction: str,
    dedupe_key: str,
    at: datetime,
    raw: bytes,
    case_id: int | None = None,
    message_id: str | None = None,
    subject: str = "",
    sender: str = "",
    size: int = 0,
    action: str = "",
    reason: str = "",
    flags: Sequence[str] = (),
) -> None:
    """Store one mail, inbound or outbound, in the caller's transaction (a plain INSERT: the
    row is not read back there). A second copy of a dedupe key raises IntegrityError."""
    session.execute(
        _ADD,
        {
            "case_id": case_id,
            "direction": direction,
            "dedupe_key": dedupe_key,
            "message_id": message_id,
            "at": at,
            "subject": subject,
            "sender": sender,
            "size": size,
            "action": action,
            "reason": reason,
            "flags": list(flags),
            "raw": raw,
        },
    )


def case_for_outbound_ids(*, session: Session, message_ids: Collection[str]) -> Case | None:
    """The case one of our own outbound Message-IDs belongs to (newest id wins)."""
    if not message_ids:
        return None
    row = session.exec(
        select(Case)
        .join(Message, col(Message.case_id) == col(Case.id))
        .where(Message.direction == "out")
        .where(col(Message.message_id).in_(list(message_ids)))
        .order_by(col(Message.id).desc())
    ).first()
    return row


def is_our_message_id(*, session: Session, message_id: str) -> bool:
    return session.execute(_OURS, {"message_id": message_id}).first() is not None

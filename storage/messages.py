"""Queries on stored mail."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from storage.models import Case, Message


def find_message(*, session: Session, direction: str, dedupe_key: str) -> Message | None:
    return session.exec(
        select(Message)
        .where(Message.direction == direction)
        .where(Message.dedupe_key == dedupe_key)
    ).first()


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
    return (
        session.exec(
            select(Message.id)
            .where(Message.direction == "out")
            .where(Message.message_id == message_id)
        ).first()
        is not None
    )

"""Queries on review items: stored mail that might be a request, waiting for a person
(keyword-only, in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import Message, ReviewItem

WAITING, OPENED, DISMISSED = "waiting", "opened", "dismissed"


class ReviewRow(NamedTuple):
    """A review item with what a person needs to find the mail: its sender and subject."""

    item: ReviewItem
    sender: str
    subject: str


def add_review_item(
    *,
    session: Session,
    message_row_id: int,
    category: str,
    also: Sequence[str],
    confidence: float,
    evidence: Sequence[str],
    language: str,
    reason: str,
    received_at: datetime,
    now: datetime,
) -> int:
    """Record that the stored mail `message_row_id` waits for a person; returns the item id."""
    item = ReviewItem(
        message_id=message_row_id,
        state=WAITING,
        category=category,
        also=list(also),
        confidence=confidence,
        evidence=list(evidence),
        language=language,
        reason=reason[:500],
        received_at=received_at,
        created_at=now,
    )
    session.add(item)
    session.flush()
    if item.id is None:  # pragma: no cover - the flush assigns it
        raise RuntimeError("the review item got no id")
    return item.id


def list_review_items(
    *, session: Session, states: Sequence[str] = (WAITING,), limit: int | None = None
) -> list[ReviewRow]:
    """Items in these states, the longest waiting first."""
    statement = (
        select(ReviewItem, col(Message.sender), col(Message.subject))
        .join(Message, col(Message.id) == col(ReviewItem.message_id))
        .where(col(ReviewItem.state).in_(list(states)))
        .order_by(col(ReviewItem.received_at), col(ReviewItem.id))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [ReviewRow(item, sender, subject) for item, sender, subject in session.exec(statement)]


def get_review_row(*, session: Session, item_id: int) -> ReviewRow | None:
    found = session.exec(
        select(ReviewItem, col(Message.sender), col(Message.subject))
        .join(Message, col(Message.id) == col(ReviewItem.message_id))
        .where(col(ReviewItem.id) == item_id)
    ).first()
    return ReviewRow(*found) if found is not None else None


def lock_review_item(*, session: Session, item_id: int) -> ReviewItem | None:
    """The item, locked until the transaction ends (two people deciding at once: one wins)."""
    return session.exec(
        select(ReviewItem).where(col(ReviewItem.id) == item_id).with_for_update()
    ).first()


def waiting_before(
    *, session: Session, received_before: datetime, limit: int
) -> tuple[int, list[ReviewRow]]:
    """How many waiting items were received before `received_before`, and the first ones."""
    where = (col(ReviewItem.state) == WAITING, col(ReviewItem.received_at) < received_before)
    count = session.exec(select(func.count()).select_from(ReviewItem).where(*where)).one()
    rows = session.exec(
        select(ReviewItem, col(Message.sender), col(Message.subject))
        .join(Message, col(Message.id) == col(ReviewItem.message_id))
        .where(*where)
        .order_by(col(ReviewItem.received_at), col(ReviewItem.id))
        .limit(limit)
    )
    return int(count), [ReviewRow(item, sender, subject) for item, sender, subject in rows]


def mark_decided(
    *,
    session: Session,
    item: ReviewItem,
    state: str,
    actor: str,
    now: datetime,
    case_id: int | None = None,
    note: str | None = None,
) -> None:
    """Record the person's decision on a locked, waiting item."""
    item.state, item.decided_by, item.decided_at = state, actor, now
    item.case_id, item.note = case_id, note
    session.add(item)
    session.flush()


def link_message(*, session: Session, message_row_id: int, case_id: int) -> None:
    """The stored mail belongs to the case opened for it (its thread starts with it)."""
    session.execute(
        update(Message).where(col(Message.id) == message_row_id).values(case_id=case_id)
    )


def remember_review_message(*, session: Session, item_id: int, channel: str, ts: str) -> None:
    """Where the item's Slack message lives."""
    session.execute(
        update(ReviewItem)
        .where(col(ReviewItem.id) == item_id)
        .values(slack_channel=channel, slack_ts=ts)
    )

"""The few queries the Slack edge needs beyond the core (keyword-only, in the caller's
transaction). They only touch Slack bookkeeping: receipts, message ids, outbox order."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from storage.models import Case, Message, OutboxItem, SlackReceipt
from storage.outbox import PENDING, SENDING


def receipt_seen(*, session: Session, key: str) -> bool:
    return session.get(SlackReceipt, key[:255]) is not None


def add_receipt(*, session: Session, key: str, now: datetime) -> None:
    session.add(SlackReceipt(key=key[:255], at=now))
    session.flush()


def prune_receipts(*, session: Session, before: datetime) -> None:
    session.exec(delete(SlackReceipt).where(col(SlackReceipt.at) < before))


def earlier_unsent(*, session: Session, case_id: int, before_id: int) -> OutboxItem | None:
    """The oldest Slack row of this case, older than `before_id`, that has not been sent."""
    return session.exec(
        select(OutboxItem)
        .where(OutboxItem.channel == "slack")
        .where(OutboxItem.case_id == case_id)
        .where(col(OutboxItem.id) < before_id)
        .where(col(OutboxItem.state).in_([PENDING, SENDING]))
        .order_by(col(OutboxItem.id))
        .limit(1)
    ).first()


def remember_message(*, session: Session, case_id: int, channel: str, ts: str) -> None:
    """Where the case's message lives; not a case change (no version bump, no update row)."""
    case = session.get(Case, case_id)
    if case is not None:
        case.slack_channel, case.slack_ts = channel, ts
        session.add(case)


def count_overdue(*, session: Session, states: list[str], today: date) -> int:
    effective_due = func.coalesce(col(Case.extended_due), col(Case.due))
    statement = (
        select(func.count())
        .select_from(Case)
        .where(col(Case.state).in_(states))
        .where(effective_due < today)
    )
    return int(session.exec(statement).one())


def first_request_raw(*, session: Session, case_id: int) -> bytes | None:
    """The sealed bytes of the first inbound mail of a case."""
    return session.exec(
        select(Message.raw)
        .where(Message.case_id == case_id)
        .where(Message.direction == "in")
        .order_by(col(Message.at))
        .limit(1)
    ).first()

"""The stored outbox: rows are committed with the change that caused them, then claimed by
workers. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so instances never share a row."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Table, bindparam, exists, func, insert, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import OutboxItem

PENDING, SENDING, SENT, FAILED, DROPPED = "pending", "sending", "sent", "failed", "dropped"


def existing_keys(*, session: Session, keys: Collection[str]) -> set[str]:
    """Which of these dedupe keys are already in the outbox."""
    if not keys:
        return set()
    found = session.exec(
        select(col(OutboxItem.dedupe_key)).where(col(OutboxItem.dedupe_key).in_(sorted(keys)))
    )
    return set(found.all())


@functools.lru_cache(maxsize=16)
def _insert_new(names: tuple[str, ...]) -> Insert:
    """`INSERT INTO outbox (names) SELECT :names WHERE NOT EXISTS (a row with the same dedupe
    key)`: one statement, cached by SQLAlchemy (its ON CONFLICT constructs are compiled anew on
    every call). Columns not named get their defaults."""
    table: Table = OutboxItem.__table__  # type: ignore[attr-defined]
    values = select(*[bindparam(name, type_=table.c[name].type) for name in names])
    taken = exists().where(table.c.dedupe_key == bindparam("dedupe_key"))
    return insert(table).from_select(list(names), values.where(~taken))


def add_item(*, session: Session, row: dict[str, Any]) -> bool:
    """Insert one row unless its dedupe key is in the outbox; False when it was."""
    result = session.connection().execute(_insert_new(tuple(row)), row)
    return bool(result.rowcount)


def add_items(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """`add_item` for many rows with the same keys (a sweep queues thousands): one statement
    executed for each row, so a key repeated in `rows` is queued once too."""
    if rows:
        session.connection().execute(_insert_new(tuple(rows[0])), list(rows))


def claim_due(
    *, session: Session, channel: str, now: datetime, limit: int, lease: timedelta
) -> Sequence[OutboxItem]:
    """Take up to `limit` due rows for this worker for `lease`, oldest first.

    A row whose lease ran out (its worker died mid-send) is due again; delivery of mail is
    at-least-once at that point, and the receiving side dedupes on our Message-ID.
    A row waits while an earlier row of the same case is undelivered, so that after an
    outage a case's mails still arrive in the order they were written.
    """
    earlier = aliased(OutboxItem)
    waits = (
        select(earlier.id)
        .where(earlier.channel == channel)
        .where(earlier.case_id == OutboxItem.case_id)
        .where(col(earlier.id) < OutboxItem.id)
        .where(col(earlier.state).in_([PENDING, SENDING]))
        .exists()
    )
    statement = (
        select(OutboxItem)
        .where(OutboxItem.channel == channel)
        .where(col(OutboxItem.state).in_([PENDING, SENDING]))
        .where(OutboxItem.next_attempt_at <= now)
        .where(or_(col(OutboxItem.claimed_until).is_(None), col(OutboxItem.claimed_until) <= now))
        .where(~waits)
        .order_by(col(OutboxItem.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    items = session.exec(statement).all()
    for item in items:
        item.state, item.claimed_until = SENDING, now + lease
        item.attempts += 1
        session.add(item)
    session.flush()
    return items


def mark_sent(*, session: Session, item_id: int, now: datetime) -> None:
    item = session.get(OutboxItem, item_id)
    if item is not None:
        item.state, item.sent_at, item.claimed_until, item.last_error = SENT, now, None, ""
        session.add(item)


def mark_retry(*, session: Session, item_id: int, at: datetime, error: str) -> None:
    item = session.get(OutboxItem, item_id)
    if item is not None:
        item.state, item.next_attempt_at, item.claimed_until = PENDING, at, None
        item.last_error = error[:1000]
        session.add(item)


def mark_final(*, session: Session, item_id: int, state: str, error: str) -> None:
    """`failed` (permanent error from the other side) or `dropped` (no longer wanted)."""
    item = session.get(OutboxItem, item_id)
    if item is not None:
        item.state, item.claimed_until, item.last_error = state, None, error[:1000]
        session.add(item)


# Built once (the intake path): building and keying a statement costs more than running it.
_RECENT_AUTOMATIC = (
    select(func.count())
    .select_from(OutboxItem)
    .where(col(OutboxItem.channel) == "mail")
    .where(col(OutboxItem.recipient_key) == bindparam("recipient_key"))
    .where(col(OutboxItem.kind).startswith("auto."))
    .where(col(OutboxItem.created_at) >= bindparam("since"))
)


def count_recent_automatic(*, session: Session, recipient_key: str, since: datetime) -> int:
    """Automatic mails queued for this address since then (outbox rows are only inserted by
    plain INSERTs, so nothing pending in the session needs flushing first)."""
    params = {"recipient_key": recipient_key, "since": since}
    return int(session.connection().execute(_RECENT_AUTOMATIC, params).scalar_one())


def find_by_message_id(*, session: Session, message_id: str) -> OutboxItem | None:
    return session.exec(select(OutboxItem).where(OutboxItem.message_id == message_id)).first()


def release_claims(*, session: Session) -> int:
    """Make every row claimed by a worker due again (SQLite start-up: the single instance's
    previous run died, so no other worker holds these claims)."""
    result = session.connection().execute(
        update(OutboxItem)
        .where(col(OutboxItem.state) == SENDING)
        .values(state=PENDING, claimed_until=None)
    )
    return int(result.rowcount or 0)

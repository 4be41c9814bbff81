"""The stored outbox: rows are committed with the change that caused them, then claimed by
workers. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so instances never share a row."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CursorResult,
    Insert,
    Table,
    bindparam,
    exists,
    func,
    insert,
    or_,
    union_all,
    update,
)
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


_BATCH = 20  # rows per statement when queueing many


@functools.lru_cache(maxsize=32)
def _insert_new(names: tuple[str, ...], count: int) -> Insert:
    """`INSERT INTO outbox (names) SELECT :names_0 WHERE NOT EXISTS (the same dedupe key)
    UNION ALL SELECT :names_1 ...` for `count` rows: one statement, cached by SQLAlchemy (its
    ON CONFLICT constructs are compiled anew on every call). Columns not named get their
    defaults."""
    table: Table = OutboxItem.__table__  # type: ignore[attr-defined]
    selects = []
    for n in range(count):
        values = [bindparam(f"{name}_{n}", type_=table.c[name].type) for name in names]
        taken = exists().where(table.c.dedupe_key == bindparam(f"dedupe_key_{n}"))
        selects.append(select(*values).where(~taken))
    # A compound SELECT is wrapped, so that the columns not named can be given their defaults.
    rows = selects[0] if count == 1 else union_all(*selects).subquery().select()
    # SQLAlchemy keeps the driver's row count of an INSERT only when asked to.
    return insert(table).from_select(list(names), rows).execution_options(preserve_rowcount=True)


def add_items(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose dedupe key is not in the outbox yet (a key repeated in `rows`
    counts once), up to twenty in one statement; returns how many were inserted. The rows
    all have the same keys."""
    fresh, seen = [], set()
    for row in rows:
        if row["dedupe_key"] not in seen:
            seen.add(row["dedupe_key"])
            fresh.append(row)
    inserted = 0
    for start in range(0, len(fresh), _BATCH):
        batch = fresh[start : start + _BATCH]
        statement = _insert_new(tuple(batch[0]), len(batch))
        params = {
            f"{name}_{n}": value for n, row in enumerate(batch) for name, value in row.items()
        }
        result: CursorResult[Any] = session.execute(statement, params)  # type: ignore[assignment]
        inserted += int(result.rowcount or 0)
    if inserted:
        # The desk reads this after the commit and wakes the delivery workers (bot/desk.py).
        session.info.setdefault(QUEUED_CHANNELS, set()).update(row["channel"] for row in fresh)
    return inserted


def add_item(*, session: Session, row: dict[str, Any]) -> bool:
    """Insert one row unless its dedupe key is in the outbox; False when it was."""
    return add_items(session=session, rows=[row]) == 1


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
        # PostgreSQL: instances skip each other's claimed rows; SQLite writes it as nothing
        .with_for_update(skip_locked=True)
    )
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
    return int(session.execute(_RECENT_AUTOMATIC, params).scalar_one())


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


# Session.info key: the outbox channels ("mail", "slack") this transaction queued rows for.
QUEUED_CHANNELS = "dsr_outbox_queued"
# PostgreSQL notification channel: `dsr serve` instances LISTEN on it to deliver at once.
NOTIFY_CHANNEL = "dsr_outbox"


def notify_queued(*, session: Session, channels: Collection[str], origin: str) -> None:
    """PostgreSQL: tell the other instances that rows were queued for `channels`; the payload
    is `ORIGIN mail,slack`, so that the sender can skip its own. A NOTIFY sent inside a
    transaction is delivered when it commits, and not at all when it rolls back."""
    payload = f"{origin} {','.join(sorted(channels))}"
    session.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))

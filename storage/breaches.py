"""Queries of the breach track: references `DL-<year>-<number>`, the record, its mail thread,
the exactly-once record of its escalations and the log of updates to the AP."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from storage.engine import insert_for
from storage.models import Breach, BreachEscalation, BreachMail, BreachUpdate, OutboxItem

BREACH_PREFIX = "DL"
_BUMP = text(
    "INSERT INTO breach_counter (year, last_number) VALUES (:y, 1) "
    "ON CONFLICT (year) DO UPDATE "
    "SET last_number = breach_counter.last_number + 1 "
    "RETURNING last_number"
)


def allocate_breach_reference(*, session: Session, year: int) -> str:
    """Bump the year's counter in one statement, as `storage.references` does for cases:
    concurrent transactions queue on the row (PostgreSQL) or the write lock (SQLite)."""
    number = session.execute(_BUMP, {"y": year}).scalar_one()
    return f"{BREACH_PREFIX}-{year}-{int(number):04d}"


def get_breach(*, session: Session, reference: str) -> Breach | None:
    return session.exec(select(Breach).where(Breach.reference == reference.upper())).first()


def lock_breach(*, session: Session, reference: str) -> Breach | None:
    """The breach row, locked for update on PostgreSQL (SQLite holds the write lock)."""
    statement = select(Breach).where(Breach.reference == reference.upper()).with_for_update()
    return session.exec(statement).first()


def list_breaches(*, session: Session, states: Collection[str] | None = None) -> Sequence[Breach]:
    """Breaches by reference order (oldest first), optionally only those in `states`."""
    statement = select(Breach)
    if states is not None:
        statement = statement.where(col(Breach.state).in_(sorted(states)))
    return session.exec(statement.order_by(col(Breach.id))).all()


def add_thread_id(
    *, session: Session, breach_id: int, message_id: str, direction: str, at: datetime
) -> None:
    session.add(
        BreachMail(breach_id=breach_id, direction=direction, message_id=message_id[:998], at=at)
    )


def breach_for_ids(*, session: Session, message_ids: Sequence[str]) -> Breach | None:
    """The breach whose thread holds one of `message_ids` (our questions to the reporter)."""
    if not message_ids:
        return None
    statement = (
        select(Breach)
        .join(BreachMail, col(BreachMail.breach_id) == col(Breach.id))
        .where(col(BreachMail.message_id).in_(list(message_ids)))
        .where(BreachMail.direction == "out")
        .order_by(col(BreachMail.id).desc())
    )
    return session.exec(statement).first()


def queued_message_id(*, session: Session, dedupe_key: str) -> str | None:
    """The Message-ID of the mail queued under `dedupe_key`."""
    statement = select(col(OutboxItem.message_id)).where(OutboxItem.dedupe_key == dedupe_key)
    return session.exec(statement).first()


def escalated_steps(
    *, session: Session, breach_ids: Collection[int]
) -> dict[int, set[tuple[str, datetime]]]:
    """The (step, due) pairs already recorded per breach."""
    found: dict[int, set[tuple[str, datetime]]] = {breach_id: set() for breach_id in breach_ids}
    if not breach_ids:
        return found
    rows = session.exec(
        select(
            col(BreachEscalation.breach_id), col(BreachEscalation.step), col(BreachEscalation.due)
        ).where(col(BreachEscalation.breach_id).in_(sorted(breach_ids)))
    ).all()
    for breach_id, step, due in rows:
        found[breach_id].add((step, due))
    return found


def record_escalations(
    *, session: Session, steps: Sequence[tuple[int, str, datetime]], at: datetime
) -> set[tuple[int, str]]:
    """Insert the exactly-once rows (ON CONFLICT DO NOTHING, like `record_steps` of the
    reminders); return the (breach id, step) pairs this call inserted."""
    if not steps:
        return set()
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    statement = (
        insert(BreachEscalation)
        .on_conflict_do_nothing(index_elements=["breach_id", "step", "due"])
        .returning(col(BreachEscalation.breach_id), col(BreachEscalation.step))
    )
    rows = [{"breach_id": b, "step": s, "due": d, "at": at} for b, s, d in steps]
    return {(b, s) for b, s in session.connection().execute(statement, rows)}


def add_update(*, session: Session, breach_id: int, at: datetime, actor: str, note: str) -> None:
    session.add(BreachUpdate(breach_id=breach_id, at=at, actor=actor, text=note))


def list_updates(*, session: Session, breach_id: int) -> Sequence[BreachUpdate]:
    statement = (
        select(BreachUpdate)
        .where(BreachUpdate.breach_id == breach_id)
        .order_by(col(BreachUpdate.id))
    )
    return session.exec(statement).all()

"""Counts read for `/metrics` and `/readyz`: how many cases, items and rows are in which state.
Only states, kinds and channels come out, never a person's data."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Executable, func, inspect, select, text
from sqlmodel import Session, SQLModel, col

from storage.models import Case, OutboxItem, ReviewItem, Task
from storage.outbox import FAILED, PENDING, SENDING

BREACH_TABLE = "breach"
BREACH_OPEN = "open"


@dataclass(frozen=True)
class Figures:
    cases: dict[tuple[str, str], int] = field(default_factory=dict)  # (state, kind) -> n
    overdue: int = 0
    review_waiting: int = 0
    tasks_open: int = 0
    breaches_open: int | None = None  # None: no breach register in this database
    outbox_pending: dict[str, int] = field(default_factory=dict)  # channel -> n
    outbox_oldest: dict[str, datetime] = field(default_factory=dict)  # channel -> created_at
    outbox_failed: dict[str, int] = field(default_factory=dict)


def read_figures(*, session: Session, today: date, closed: Collection[str]) -> Figures:
    """Every figure in one read transaction; `closed`: the case states that are finished."""
    cases = session.execute(
        select(col(Case.state), col(Case.category), func.count()).group_by(
            col(Case.state), col(Case.category)
        )
    ).all()
    overdue = _scalar(
        session,
        select(func.count())
        .select_from(Case)
        .where(col(Case.state).not_in(list(closed)))
        .where(func.coalesce(Case.extended_due, Case.due) < today),
    )
    return Figures(
        cases={(str(s), str(k)): int(n) for s, k, n in cases},
        overdue=overdue,
        review_waiting=_count(session, ReviewItem, col(ReviewItem.state) == "waiting"),
        tasks_open=_count(session, Task, col(Task.state) == "open"),
        breaches_open=open_breaches(session=session),
        outbox_pending=_pending_by_channel(session, [PENDING, SENDING]),
        outbox_oldest=_oldest_by_channel(session),
        outbox_failed=_pending_by_channel(session, [FAILED]),
    )


def oldest_pending(*, session: Session, channel: str) -> datetime | None:
    """When the oldest row of `channel` still waiting to go out was queued."""
    return session.execute(
        select(func.min(OutboxItem.created_at))
        .where(col(OutboxItem.channel) == channel)
        .where(col(OutboxItem.state).in_([PENDING, SENDING]))
    ).scalar_one_or_none()


def open_breaches(*, session: Session) -> int | None:
    """Breaches still open (no decision yet); None when the database has no breach register.
    Read by table name, so that the figures need nothing of the breach track's code."""
    inspector = inspect(session.connection())
    if not inspector.has_table(BREACH_TABLE):
        return None
    statement = text(f"SELECT count(*) FROM {BREACH_TABLE} WHERE state = :open")  # noqa: S608
    return _scalar(session, statement.bindparams(open=BREACH_OPEN))


def _scalar(session: Session, statement: Executable) -> int:
    return int(session.execute(statement).scalar_one())


def _count(session: Session, table: type[SQLModel], where: ColumnElement[bool]) -> int:
    return _scalar(session, select(func.count()).select_from(table).where(where))


def _pending_by_channel(session: Session, states: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(col(OutboxItem.channel), func.count())
        .where(col(OutboxItem.state).in_(states))
        .group_by(col(OutboxItem.channel))
    ).all()
    return {str(channel): int(n) for channel, n in rows}


def _oldest_by_channel(session: Session) -> dict[str, datetime]:
    rows = session.execute(
        select(col(OutboxItem.channel), func.min(OutboxItem.created_at))
        .where(col(OutboxItem.state).in_([PENDING, SENDING]))
        .group_by(col(OutboxItem.channel))
    ).all()
    return {str(channel): at for channel, at in rows if at is not None}

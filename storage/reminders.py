"""Queries of the reminder sweep: candidate cases in batches, the exactly-once record of
reminders, the sweep lock, and the counts behind the digest and the extension figures."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import ColumnElement, Engine, and_, func, literal, literal_column, text, tuple_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.engine import insert_for
from storage.models import Case, ReminderSent

_STATE_NAME = re.compile(r"[a-z_]+")
# Rows per INSERT statement: short statements stay in psycopg's parse cache (4 kB).
PAGE_ROWS = 40
# PostgreSQL advisory lock id of the reminder sweep (one instance sweeps at a time).
SWEEP_LOCK = 0x44535202


def effective_due() -> ColumnElement[date]:
    """The expression the index `ix_dsr_case_active_effective_due` is built on."""
    return func.coalesce(col(Case.extended_due), col(Case.due))


def _active(closed: Collection[str]) -> ColumnElement[bool]:
    """`state NOT IN ('done', ...)` with literal values: the words of the partial index's
    predicate, which a planner can only match against constants, not bound parameters."""
    if not all(_STATE_NAME.fullmatch(state) for state in closed):
        raise ValueError(f"unexpected state names {sorted(closed)!r}")
    return col(Case.state).not_in([literal_column(f"'{state}'") for state in sorted(closed)])


def deadline_statement(
    *, closed: Collection[str], horizon: date, after: tuple[date, int] | None, limit: int
) -> SelectOfScalar[Case]:
    """Active cases due on or before `horizon`, ordered by (effective due date, id) and
    continuing after `after`: keyset pagination in the order of the index
    `ix_dsr_case_active_effective_due` (see docs/reminders.md)."""
    statement = select(Case).where(_active(closed)).where(effective_due() <= horizon)
    if after is not None:
        after_row = tuple_(literal(after[0]), literal(after[1]))
        statement = statement.where(tuple_(effective_due(), col(Case.id)) > after_row)
    return statement.order_by(effective_due(), col(Case.id)).limit(limit)


def deadline_batch(
    *,
    session: Session,
    closed: Collection[str],
    horizon: date,
    after: tuple[date, int] | None,
    limit: int,
) -> Sequence[Case]:
    statement = deadline_statement(closed=closed, horizon=horizon, after=after, limit=limit)
    return session.exec(statement).all()


def identity_batch(
    *, session: Session, state: str, received_before: datetime, after_id: int, limit: int
) -> Sequence[Case]:
    """Cases in `state` (awaiting identity) received before the cut-off, by id."""
    statement = (
        select(Case)
        .where(Case.state == state)
        .where(col(Case.received_at) < received_before)
        .where(col(Case.id) > after_id)
        .order_by(col(Case.id))
        .limit(limit)
    )
    return session.exec(statement).all()


def sent_steps(*, session: Session, case_ids: Collection[int]) -> dict[int, set[tuple[str, date]]]:
    """The (step, due) pairs already recorded for each of `case_ids`."""
    found: dict[int, set[tuple[str, date]]] = {case_id: set() for case_id in case_ids}
    if not case_ids:
        return found
    rows = session.exec(
        select(col(ReminderSent.case_id), col(ReminderSent.step), col(ReminderSent.due)).where(
            col(ReminderSent.case_id).in_(sorted(case_ids))
        )
    ).all()
    for case_id, step, due in rows:
        found[case_id].add((step, due))
    return found


def record_steps(
    *, session: Session, steps: Sequence[tuple[int, str, date]], at: datetime
) -> set[tuple[int, str, date]]:
    """Insert the exactly-once rows (ON CONFLICT DO NOTHING); return those this call
    inserted. A row that exists already was recorded by another sweep."""
    if not steps:
        return set()
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    statement = (
        insert(ReminderSent)
        .on_conflict_do_nothing(index_elements=["case_id", "step", "due"])
        .returning(col(ReminderSent.case_id), col(ReminderSent.step), col(ReminderSent.due))
        .execution_options(insertmanyvalues_page_size=PAGE_ROWS)
    )
    rows = [{"case_id": c, "step": s, "due": d, "at": at} for c, s, d in steps]
    return {(c, s, d) for c, s, d in session.connection().execute(statement, rows)}


@contextmanager
def sweep_lock(engine: Engine) -> Iterator[bool]:
    """True when this process may sweep now. On PostgreSQL a transaction-level advisory lock
    is held on its own connection until the block ends (or the process dies); another
    instance gets False and skips the round. SQLite runs one instance: always True."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection, connection.begin():
        got = connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK})
        yield bool(got.scalar_one())


# --- the digest and the extension figures ------------------------------------------------


def count_and_first(
    *, session: Session, where: Sequence[ColumnElement[bool]], limit: int
) -> tuple[int, Sequence[Case]]:
    """How many cases match, and the first `limit` of them by effective due date."""
    condition = and_(*where)
    count = session.exec(select(func.count()).select_from(Case).where(condition)).one()
    first = session.exec(
        select(Case).where(condition).order_by(effective_due(), col(Case.id)).limit(limit)
    ).all()
    return int(count), first


def digest_sections(
    *, session: Session, closed: Collection[str], today: date, week_end: date, limit: int
) -> dict[str, tuple[int, Sequence[Case]]]:
    """The digest's sections, in order: count and first cases of each."""
    active = _active(closed)
    conditions: dict[str, list[ColumnElement[bool]]] = {
        "overdue": [active, effective_due() < today],
        "due_this_week": [active, effective_due() >= today, effective_due() <= week_end],
        "awaiting_identity": [active, col(Case.state) == "awaiting_identity"],
        "needs_triage": [active, col(Case.needs_triage).is_(True)],
        "unassigned": [active, col(Case.assignee).is_(None)],
    }
    return {
        name: count_and_first(session=session, where=where, limit=limit)
        for name, where in conditions.items()
    }


def extension_counts(*, session: Session, closed: Collection[str]) -> dict[str, int]:
    """Cases in total and extended, overall and among the active ones."""
    extended = col(Case.extended_due).is_not(None)
    active = _active(closed)

    def count(*where: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(Case)
        if where:
            statement = statement.where(and_(*where))
        return int(session.exec(statement).one())

    return {
        "cases": count(),
        "extended": count(extended),
        "active": count(active),
        "active_extended": count(active, extended),
    }

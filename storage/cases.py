"""Queries on cases, keyword-only, used by the core services."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import Table, func, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from storage.models import Case

_TABLE: Table = Case.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.name for c in _TABLE.columns if not c.primary_key)
_ADD = insert(_TABLE).returning(_TABLE.c.id)


def add_case(*, session: Session, case: Case) -> Case:
    """Insert a new case with one plain INSERT and attach it to the session as if loaded, so
    later changes to it are flushed as usual (cheaper than an ORM flush of a new object)."""
    values = {name: getattr(case, name) for name in _COLUMNS}
    case.id = session.execute(_ADD, values).scalar_one()
    make_transient_to_detached(case)
    session.add(case)
    return case


def get_case_by_reference(*, session: Session, reference: str) -> Case | None:
    return session.exec(select(Case).where(Case.reference == reference.strip().upper())).first()


def lock_case(*, session: Session, reference: str) -> Case | None:
    """Load a case for change: the row stays locked until commit (SQLite writes FOR UPDATE
    as nothing; its write transaction already holds the database)."""
    statement = select(Case).where(Case.reference == reference.strip().upper())
    return session.exec(statement.with_for_update()).first()


def find_cases(
    *,
    session: Session,
    states: Collection[str] | None = None,
    due_before: date | None = None,
    due_on_or_before: date | None = None,
    assignee: str | None = None,
    needs_triage: bool | None = None,
    limit: int | None = None,
) -> Sequence[Case]:
    """Cases matching every given filter, soonest effective due date first."""
    effective_due = func.coalesce(col(Case.extended_due), col(Case.due))
    statement = select(Case)
    if states is not None:
        statement = statement.where(col(Case.state).in_(sorted(states)))
    if due_before is not None:
        statement = statement.where(effective_due < due_before)
    if due_on_or_before is not None:
        statement = statement.where(effective_due <= due_on_or_before)
    if assignee is not None:
        statement = statement.where(Case.assignee == assignee)
    if needs_triage is not None:
        statement = statement.where(Case.needs_triage == needs_triage)
    statement = statement.order_by(effective_due, col(Case.id))
    if limit is not None:
        statement = statement.limit(limit)
    return session.exec(statement).all()


def count_by_state(*, session: Session) -> dict[str, int]:
    rows = session.exec(select(Case.state, func.count()).group_by(Case.state)).all()
    return {state: int(count) for state, count in rows}

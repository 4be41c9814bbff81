"""Case references `DSR-<year>-<number>`, allocated without races on both databases."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

REFERENCE_PREFIX = "DSR"
_BUMP = text(
    "INSERT INTO reference_counter (year, last_number) VALUES (:y, 1) "
    "ON CONFLICT (year) DO UPDATE "
    "SET last_number = reference_counter.last_number + 1 "
    "RETURNING last_number"
)


def format_reference(year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX}-{year}-{number:04d}"


def allocate_reference(*, session: Session, year: int) -> str:
    """Bump the year's counter in the caller's transaction, in one statement (an upsert: the
    year's first case inserts the row).

    The update takes a row lock on PostgreSQL (and the write lock on SQLite), so concurrent
    transactions queue here and each gets its own number; a rolled-back case leaves a gap,
    never a duplicate.
    """
    number = session.execute(_BUMP, {"y": year}).scalar_one()
    return format_reference(year, int(number))

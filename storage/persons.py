"""The register of known persons: lookups by normalised address or by name."""

from __future__ import annotations

from sqlalchemy import case, or_
from sqlmodel import Session, col, select

from storage.models import KnownPerson


def find_by_email_key(*, session: Session, email_key: str) -> KnownPerson | None:
    return session.exec(select(KnownPerson).where(KnownPerson.email_key == email_key)).first()


def find_by_email_or_name(
    *, session: Session, email_key: str, name_key: str | None
) -> list[KnownPerson]:
    """In one query: the person with this address key first (when there is one), then up to
    two more with this name key (the caller needs to know whether a name is unique)."""
    by_email = col(KnownPerson.email_key) == email_key
    wanted = or_(by_email, col(KnownPerson.name_key) == name_key) if name_key else by_email
    statement = (
        select(KnownPerson)
        .where(wanted)
        .order_by(case((by_email, 0), else_=1), col(KnownPerson.id))
        .limit(3)
    )
    return list(session.exec(statement).all())

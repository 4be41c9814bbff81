"""The register of known persons: lookups by normalised address or by name."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import KnownPerson


def find_by_email_key(*, session: Session, email_key: str) -> KnownPerson | None:
    return session.exec(select(KnownPerson).where(KnownPerson.email_key == email_key)).first()


def find_by_name(*, session: Session, name_key: str | None) -> list[KnownPerson]:
    """At most two persons with this name key (the caller needs to know if it is unique)."""
    if not name_key:
        return []
    statement = select(KnownPerson).where(KnownPerson.name_key == name_key).limit(2)
    return list(session.exec(statement).all())

"""The register of known persons: lookups by normalised address or by name."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from storage.models import KnownPerson


def find_by_email_key(*, session: Session, email_key: str) -> KnownPerson | None:
    return session.exec(select(KnownPerson).where(KnownPerson.email_key == email_key)).first()


def find_by_name(*, session: Session, name: str) -> list[KnownPerson]:
    wanted = " ".join(name.split()).lower()
    if not wanted:
        return []
    statement = select(KnownPerson).where(func.lower(KnownPerson.name) == wanted).limit(2)
    return list(session.exec(statement).all())

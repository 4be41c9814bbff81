"""The register of known persons: lookups by normalised address or by name."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, case, or_
from sqlmodel import Session, col, select

from storage.models import KnownPerson


def find_by_email_key(*, session: Session, email_key: str) -> KnownPerson | None:
    return session.exec(select(KnownPerson).where(KnownPerson.email_key == email_key)).first()


class Candidate(NamedTuple):
    """A registered person who may be the sender: how they were found, and their address."""

    email_key: str
    email: str


_BY_EMAIL = col(KnownPerson.email_key) == bindparam("email_key")
# A NULL name key matches none.
_BY_EMAIL_OR_NAME = (
    select(col(KnownPerson.email_key), col(KnownPerson.email))
    .where(or_(_BY_EMAIL, col(KnownPerson.name_key) == bindparam("name_key")))
    .order_by(case((_BY_EMAIL, 0), else_=1), col(KnownPerson.id))
    .limit(3)
)


def find_by_email_or_name(
    *, session: Session, email_key: str, name_key: str | None
) -> list[Candidate]:
    """In one query: the person with this address key first (when there is one), then up to
    two more with this name key (the caller needs to know whether a name is unique)."""
    params = {"email_key": email_key, "name_key": name_key or None}
    rows = session.execute(_BY_EMAIL_OR_NAME, params).all()
    return [Candidate(key, email) for key, email in rows]

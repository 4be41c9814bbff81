"""The one-time-code state of cases (the secret is sealed by its column type)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from storage.models import IdentityCheck
from storage.prepared import Prepared

_ADD = Prepared(insert(IdentityCheck))


def add_check(
    *, session: Session, case_id: int, secret: bytes, sent_to: str, issued_at: datetime
) -> None:
    """The first code of a new case, in the caller's transaction (a plain INSERT)."""
    _ADD.run(
        session,
        {
            "case_id": case_id,
            "secret": secret,
            "sent_to": sent_to,
            "issued_at": issued_at,
            "issues": [issued_at.isoformat()],
            "wrong_attempts": 0,
            "locked": False,
        },
    )

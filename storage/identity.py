"""The one-time-code state of cases (the secret is sealed by its column type)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from storage.models import IdentityCheck

# On the table (Core), not the class: a plain INSERT without the ORM's bulk-insert machinery.
_ADD = insert(IdentityCheck.__table__)  # type: ignore[attr-defined]


def add_check(
    *, session: Session, case_id: int, secret: bytes, sent_to: str, issued_at: datetime
) -> None:
    """The first code of a new case, in the caller's transaction (a plain INSERT)."""
    session.execute(
        _ADD,
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

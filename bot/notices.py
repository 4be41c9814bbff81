"""Mails to the requester that follow a secretariat action (extension, outcome)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session

from bot.categories import plain_words
from bot.desk import Desk
from bot.outbox import queue_mail
from bot.wording import long_date
from storage.models import Case, IdentityCheck

OUTCOME_TEMPLATE = {
    "done": "outcome_done",
    "refused": "outcome_refused",
    "withdrawn": "outcome_withdrawn",
}


def requester_address(session: Session, case: Case) -> str | None:
    """The verified mailbox when there is one (the code went there), else the requester."""
    if "no_reply_address" in case.flags:
        return None
    check = session.get(IdentityCheck, case.id)
    return check.sent_to if check is not None and case.verified_at else case.requester


def code_address(session: Session, case: Case) -> str:
    """Where the one-time code went (the address on record when the register knows the
    person), which is where a reminder about the code must go too."""
    check = session.get(IdentityCheck, case.id)
    return check.sent_to if check is not None else case.requester


def _base_context(desk: Desk, case: Case) -> dict[str, object]:
    return {
        "received": long_date(case.received_at.astimezone(desk.tz).date(), case.language),
        "due": long_date(case.due, case.language),
        "kind_words": plain_words(case.category, case.language),
    }


def queue_extension_notice(desk: Desk, *, session: Session, case: Case, now: datetime) -> bool:
    to = requester_address(session, case)
    if to is None or case.extended_due is None:
        return False
    context = {
        **_base_context(desk, case),
        "reasons": case.extension_reason or "",
        "extended_due": long_date(case.extended_due, case.language),
    }
    return queue_mail(
        desk,
        session=session,
        case=case,
        template="extension_notice",
        to=to,
        now=now,
        context=context,
        dedupe_key=f"mail:extension:{case.id}",
        automatic=False,
    )


def queue_outcome(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    outcome: str,
    message: str,
    now: datetime,
    work: Sequence[Mapping[str, str]] = (),
    told: Sequence[str] = (),
    download_url: str | None = None,
) -> bool:
    """The closing mail; `outcome_done` is refused by the outbox for an unverified case.
    `work`: per system what was done (`system`, `result`, and `law` for data kept); `told`:
    the recipients informed of a correction, erasure or restriction (art. 19);
    `download_url`: the link to the answer package (bot/download_offer.py)."""
    to = requester_address(session, case)
    if to is None:
        return False
    context = {
        **_base_context(desk, case),
        "message": message,
        "work": [dict(line) for line in work],
        "told": list(told),
        "download_url": download_url or "",
        "download_days": desk.settings.download_days,
        "download_max": desk.settings.download_max,
    }
    return queue_mail(
        desk,
        session=session,
        case=case,
        template=OUTCOME_TEMPLATE[outcome],
        to=to,
        now=now,
        context=context,
        dedupe_key=f"mail:outcome:{case.id}",
        automatic=False,
    )

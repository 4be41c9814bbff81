"""The status page any requester can open: reference and the address the request came from,
then a code by mail. Nothing tells a stranger whether a reference exists: a pair that does not
match gets the same answer after the same work (a lookup, a code made, an access stored); the
mail for a pair that matches is queued after the answer has gone out (`mail_code`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.cases import ActionRefused, UnknownCase, audit, close, effective_due
from bot.categories import plain_words
from bot.desk import Desk
from bot.notices import code_address
from bot.outbox import queue_mail
from bot.privacy import normalise_address
from bot.states import CLOSED, IllegalTransition, State
from bot.web_access import (
    CODE_MINUTES,
    MAX_WRONG_CODES,
    SESSION_MINUTES,
    STATUS_VIEWS_AUDITED,
    new_code,
    new_token,
    same_code,
    take_in,
    token_hash,
)
from storage.audit import append_event
from storage.cases import get_case_by_reference
from storage.models import Case, IdentityCheck, StatusAccess
from storage.tasks import count_answered
from storage.web import add_access, find_access, lock_access

logger = logging.getLogger("dsr.status")
WITHDRAW_NOTE = "withdrawn by the requester on the status page"


def _matches(session: Session, case: Case | None, address: str) -> bool:
    """Whether `address` is the case's: the one the request came from, or the one its code
    went to. The same queries run for an unknown reference (no timing difference)."""
    check = session.get(IdentityCheck, case.id if case is not None else 0)
    if case is None or not address.strip():
        return False
    given = normalise_address(address)
    known = {normalise_address(case.requester)}
    if check is not None:
        known.add(normalise_address(check.sent_to))
    return any(secrets.compare_digest(given, k) for k in sorted(known))


def start(desk: Desk, *, reference: str, address: str, now: datetime) -> str:
    """Record the request for a code and return the access token (for a cookie). The work is
    the same whether or not the reference and the address belong together; the code's mail
    is queued afterwards, by `mail_code`, once the answer has gone out."""
    token = new_token()
    with desk.transaction() as session:
        found = get_case_by_reference(session=session, reference=reference[:32])
        case = found if _matches(session, found, address) else None
        add_access(
            session=session,
            access=StatusAccess(
                token_hash=token_hash(token),
                case_id=case.id if case else None,
                code=new_code(),
                created_at=now,
                expires_at=now + timedelta(minutes=CODE_MINUTES),
            ),
        )
    return token


class _Rehearsal(Exception):
    """Raised to roll back the mail made for a pair that did not match."""


def mail_code(desk: Desk, *, token: str, now: datetime) -> bool:
    """Queue the code of an access whose pair matched. For one that did not, the same mail is
    made and queued, holding the same locks, in a transaction that is then rolled back, and
    the event says it was not sent: the work after the answer takes about as long either way
    (else the requester's next page, slowed or not, would tell)."""
    reference: str | None = None
    try:
        with desk.transaction() as session:
            access = lock_access(session=session, token_hash=token_hash(token))
            case = session.get(Case, access.case_id) if access and access.case_id else None
            if access is None:
                return False
            to = code_address(session, case) if case else desk.settings.sender_address
            _queue_code(desk, session, access.code, access.token_hash, case, to, now)
            if case is None:
                raise _Rehearsal
            reference = case.reference
            audit(session, case, now=now, actor="requester", action="status_code_sent")
    except _Rehearsal:
        with desk.transaction() as session:
            append_event(session=session, at=now, actor="requester", action="status_code_not_sent")
        return False
    logger.info("case=%s status code sent", reference)
    return True


def _queue_code(
    desk: Desk, session: Session, code: str, key: str, case: Case | None, to: str, now: datetime
) -> None:
    queue_mail(
        desk,
        session=session,
        case=case,
        template="web_code",
        to=to,
        now=now,
        context={
            "code": code,
            "minutes": CODE_MINUTES,
            "purpose": "status",
            "reference": case.reference if case else "DSR-0000-0000",
        },
        dedupe_key=f"mail:web_code:status:{key}",
        automatic=False,
    )


def check(desk: Desk, *, token: str, code: str, now: datetime) -> str:
    """`ok`, `wrong` (attempts left), `locked` (after MAX_WRONG_CODES), `expired`, `unknown`.
    A pair that did not match has no right code: every code is wrong, as for a stranger, after
    the same work (one lookup of the case's reference, one audit event without a case), so
    that the time the answer takes does not tell whether the pair exists."""
    with desk.transaction() as session:
        access = lock_access(session=session, token_hash=token_hash(token))
        if access is None:
            return "unknown"
        if access.locked:
            return "locked"
        if now >= access.expires_at and access.verified_at is None:
            return "expired"
        found = session.exec(
            select(Case.id, Case.reference).where(Case.id == (access.case_id or 0))
        ).first()
        case_id, reference = found if found is not None else (None, None)
        right = same_code(access.code if case_id is not None else None, code)
        if case_id is not None and right and access.verified_at is None:
            access.verified_at = now
            session.add(access)
            append_event(
                session=session,
                at=now,
                actor="requester",
                action="status_code_accepted",
                case_id=case_id,
                reference=reference,
                details={},
            )
            return "ok"
        access.wrong_codes += 1
        access.locked = access.wrong_codes >= MAX_WRONG_CODES
        session.add(access)
        append_event(
            session=session,
            at=now,
            actor="requester",
            action="status_code_wrong",
            case_id=case_id,
            reference=reference,
            details={"attempts": access.wrong_codes},
        )
        return "locked" if access.locked else "wrong"


def attempts_left(desk: Desk, *, token: str) -> int:
    with desk.reading() as session:
        access = find_access(session=session, token_hash=token_hash(token))
        return MAX_WRONG_CODES - access.wrong_codes if access else 0


@dataclass(frozen=True)
class StatusView:
    reference: str
    state: str
    language: str
    kind_words: str
    received_on: date
    due: date
    extended: bool
    waiting_for: str  # code, triage, tasks, nothing
    tasks_done: int
    tasks_asked: int

    @property
    def can_withdraw(self) -> bool:
        return self.state not in {str(s) for s in CLOSED}


def _waiting_for(case: Case) -> str:
    if case.state in {str(s) for s in CLOSED}:
        return "nothing"
    if case.state == State.AWAITING_IDENTITY:
        return "code"
    if case.state == State.NEEDS_TRIAGE:
        return "triage"
    return "tasks"


def _opened(session: Session, access: StatusAccess | None, now: datetime) -> Case | None:
    """The case behind an access whose code was right, within SESSION_MINUTES of that."""
    if access is None or access.case_id is None or access.verified_at is None or access.locked:
        return None
    if now >= access.verified_at + timedelta(minutes=SESSION_MINUTES):
        return None
    return session.get(Case, access.case_id)


def view(desk: Desk, *, token: str, now: datetime) -> StatusView | None:
    """The case behind an opened access (None when the access is not open). The view is
    audited once an hour per access (so once: an access is open for SESSION_MINUTES), decided
    under the access's row lock; reloading the page adds no rows to the trail."""
    with desk.transaction() as session:
        access = lock_access(session=session, token_hash=token_hash(token))
        case = _opened(session, access, now)
        if case is None or access is None:
            return None
        answered = count_answered(session=session, case_id=case.id or 0)
        if take_in(session, desk, checks=[(STATUS_VIEWS_AUDITED, str(access.id))], now=now):
            audit(session, case, now=now, actor="requester", action="status_viewed", details={})
        return StatusView(
            reference=case.reference,
            state=case.state,
            language=case.language,
            kind_words=plain_words(case.category, case.language),
            received_on=case.received_at.astimezone(desk.tz).date(),
            due=effective_due(case),
            extended=case.extended_due is not None,
            waiting_for=_waiting_for(case),
            tasks_done=answered[0],
            tasks_asked=answered[1],
        )


def withdraw(desk: Desk, *, token: str, now: datetime) -> bool:
    """Withdraw the request behind an opened access, through the one closing path (audited,
    Slack updated, the requester told by mail); False when the access is not open or the
    case is closed already."""
    with desk.reading() as session:
        case = _opened(session, find_access(session=session, token_hash=token_hash(token)), now)
    if case is None:
        return False
    try:
        close(
            desk,
            reference=case.reference,
            outcome=str(State.WITHDRAWN),
            note=WITHDRAW_NOTE,
            actor="requester (status page)",
            now=now,
        )
    except (ActionRefused, IllegalTransition, UnknownCase):
        return False
    logger.info("case=%s withdrawn by the requester on the status page", case.reference)
    return True

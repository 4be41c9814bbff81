"""Confirming the requester's identity with a one-time code (GDPR art. 12(6)).

The code is an HOTP (pyotp) of a per-case secret; the counter is the number of codes issued,
so a fresh code retires the old one. Only the sealed secret is stored, never a code; codes never
reach logs, Slack or the audit trail.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlmodel import Session

from bot.cases import audit, mark_verified, record_change
from bot.desk import Desk
from bot.lookup import name_key, person_key
from bot.outbox import queue_mail, queue_slack
from bot.privacy import normalise_address
from bot.states import State
from bot.wording import long_date
from storage.identity import add_check
from storage.models import Case, IdentityCheck
from storage.persons import find_by_email_or_name

logger = logging.getLogger("dsr.identity")
CODE = re.compile(r"(?<![\d.,])(\d{3})[ \t-]?(\d{3})(?![\d.,]?\d)")
NEW_CODE = re.compile(r"\b(nieuwe|andere|new|another|fresh)\s+code\b", re.IGNORECASE)
MAX_ISSUES_PER_DAY = 3


def find_codes(new_text: str) -> list[str]:
    """The different six-digit codes in the new text of a reply, in order, tolerant of
    `123 456` and `123-456`; at most three are collected (two already decide, see `judge`)."""
    found: dict[str, None] = {}
    for match in CODE.finditer(new_text):
        found[match.group(1) + match.group(2)] = None
        if len(found) >= 3:
            break
    return list(found)


def asks_for_new_code(new_text: str) -> bool:
    return NEW_CODE.search(new_text) is not None


def issues_within(issues: list[str], *, now: datetime, hours: int = 24) -> int:
    since = now - timedelta(hours=hours)
    return sum(1 for stamp in issues if datetime.fromisoformat(stamp) > since)


@dataclass(frozen=True)
class CodeTarget:
    """Where the code goes, whether the register knows the person by this address, and
    whether it knows someone of this name at another address (a person checks that)."""

    address: str
    unknown: bool
    name_on_record: bool = False

    def address_differs_from(self, other: str) -> bool:
        return normalise_address(self.address) != normalise_address(other)


def code_target(
    desk: Desk,
    *,
    session: Session,
    sender: str | None,
    sender_name: str,
    reply_to: str | None,
) -> CodeTarget | None:
    """Where the one-time code goes (art. 12(6): confirm the identity of the person).

    The register is asked by the From address: a person it knows gets the code at the
    address on record only, whatever Reply-To says. An unknown person gets it at the From
    address, which a Reply-To cannot redirect. Only a no-reply From (a website's contact
    form, `sender` None) leaves the Reply-To, which is then looked up the same way. A display
    name never redirects the code (that would tell the writer whether the register knows the
    name); a name the register holds at another address is flagged for a person instead.
    """
    address = sender or reply_to
    if not address:
        return None
    email_key = person_key(desk, address)
    found = find_by_email_or_name(
        session=session, email_key=email_key, name_key=name_key(desk, sender_name)
    )
    if found and found[0].email_key == email_key:
        return CodeTarget(found[0].email, unknown=False)
    return CodeTarget(address, unknown=True, name_on_record=bool(found))


def issue_code(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    check: IdentityCheck | None,
    send_to: str,
    now: datetime,
) -> str:
    """Create the code of a new case (`check` None) or advance the case's code; returns the
    code for the mail being composed."""
    if check is None:
        # 160 random bits in base32, as pyotp.random_base32() makes them, from one read of
        # the system's randomness instead of one per character.
        secret = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
        add_check(
            session=session,
            case_id=case.id or 0,
            secret=secret.encode(),
            sent_to=send_to,
            issued_at=now,
        )
        count = 1
    else:
        check.issues = [*check.issues, now.isoformat()]
        check.issued_at, check.sent_to = now, send_to
        session.add(check)
        secret, count = check.secret.decode(), len(check.issues)
    audit(
        session,
        case,
        now=now,
        actor="system",
        action="code_issued",
        details={"count": count},
    )
    return pyotp.HOTP(secret).at(count - 1)


def _hotp(desk: Desk, check: IdentityCheck) -> pyotp.HOTP:
    return pyotp.HOTP(check.secret.decode())


def _code_valid(desk: Desk, check: IdentityCheck, code: str, *, now: datetime) -> bool | None:
    """True right, False wrong, None right but expired."""
    if not _hotp(desk, check).verify(code, len(check.issues) - 1):
        return False
    ttl = timedelta(hours=desk.settings.otp_ttl_hours)
    return None if now - check.issued_at > ttl else True


def handle_reply(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    new_text: str,
    sender: str,
    now: datetime,
    in_reply_to: str | None,
) -> str:
    """Act on a requester's reply to a case awaiting identity; returns what happened.

    A reply is judged by one code-shaped token, the first in its new text, and only when it
    comes from the address the code was sent to. A reply carrying several different codes is
    a failed attempt (one list of guesses must not cost one try).
    """
    check = session.get(IdentityCheck, case.id)
    if check is None or case.verified_at is not None or case.state != State.AWAITING_IDENTITY:
        return "not_awaiting"
    if check.locked:
        return "locked"
    codes = find_codes(new_text)
    if not codes:
        if asks_for_new_code(new_text):
            return _fresh_code(
                desk,
                session=session,
                case=case,
                check=check,
                now=now,
                in_reply_to=in_reply_to,
                why="asked",
            )
        return "no_code"
    if normalise_address(sender) != normalise_address(check.sent_to):
        audit(
            session,
            case,
            now=now,
            actor="requester",
            action="code_from_other_address",
            details={},
        )
        return "code_from_other_address"
    if len(codes) > 1:
        outcome = _wrong(
            desk, session=session, case=case, check=check, now=now, in_reply_to=in_reply_to
        )
        return "locked" if outcome == "locked" else "several_codes"
    valid = _code_valid(desk, check, codes[0], now=now)
    if valid is True:
        return _verified(
            desk, session=session, case=case, check=check, now=now, in_reply_to=in_reply_to
        )
    if valid is None:
        return _fresh_code(
            desk,
            session=session,
            case=case,
            check=check,
            now=now,
            in_reply_to=in_reply_to,
            why="expired",
        )
    return _wrong(desk, session=session, case=case, check=check, now=now, in_reply_to=in_reply_to)


def _context(desk: Desk, case: Case) -> dict[str, object]:
    return {
        "name": "",
        "due": long_date(case.extended_due or case.due, case.language),
        "code_hours": desk.settings.otp_ttl_hours,
    }


def _verified(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    check: IdentityCheck,
    now: datetime,
    in_reply_to: str | None,
) -> str:
    details = mark_verified(case, now=now)
    record_change(
        desk,
        session=session,
        case=case,
        now=now,
        actor="requester",
        action="verified",
        details={**details, "how": "code"},
    )
    _tell_both(
        desk,
        session=session,
        case=case,
        check=check,
        now=now,
        in_reply_to=in_reply_to,
        template="identity_confirmed",
        note="verified",
    )
    logger.info("case=%s identity verified by code", case.reference)
    return "verified"


def _tell_both(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    check: IdentityCheck,
    now: datetime,
    in_reply_to: str | None,
    template: str,
    note: str,
) -> None:
    """The requester by mail (at the address the code went to), the secretariat in Slack."""
    queue_mail(
        desk,
        session=session,
        case=case,
        template=template,
        to=check.sent_to,
        now=now,
        context=_context(desk, case),
        dedupe_key=f"mail:{template}:{case.id}",
        in_reply_to=in_reply_to,
    )
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="thread_note",
        now=now,
        dedupe_key=f"slack:{note}:{case.id}",
        payload={"note": note},
    )


def _wrong(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    check: IdentityCheck,
    now: datetime,
    in_reply_to: str | None,
) -> str:
    check.wrong_attempts += 1
    limit = desk.settings.otp_max_attempts
    audit(
        session,
        case,
        now=now,
        actor="requester",
        action="code_wrong",
        details={"attempts": check.wrong_attempts, "limit": limit},
    )
    if check.wrong_attempts < limit:
        session.add(check)
        return "wrong"
    check.locked = True
    session.add(check)
    case.flags = sorted({*case.flags, "identity_locked"})
    session.add(case)
    audit(
        session,
        case,
        now=now,
        actor="system",
        action="identity_locked",
        details={"attempts": check.wrong_attempts},
    )
    _tell_both(
        desk,
        session=session,
        case=case,
        check=check,
        now=now,
        in_reply_to=in_reply_to,
        template="identity_locked",
        note="identity_locked",
    )
    logger.warning("case=%s identity self-service locked after wrong codes", case.reference)
    return "locked"


def _fresh_code(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    check: IdentityCheck,
    now: datetime,
    in_reply_to: str | None,
    why: str,
) -> str:
    if issues_within(check.issues, now=now) >= MAX_ISSUES_PER_DAY:
        audit(
            session,
            case,
            now=now,
            actor="system",
            action="code_limit_reached",
            details={"why": why},
        )
        return "code_limit"
    code = issue_code(desk, session=session, case=case, check=check, send_to=check.sent_to, now=now)
    queue_mail(
        desk,
        session=session,
        case=case,
        template="identity_code",
        to=check.sent_to,
        now=now,
        context={**_context(desk, case), "code": code},
        dedupe_key=f"mail:identity_code:{case.id}:{len(check.issues)}",
        in_reply_to=in_reply_to,
    )
    return f"new_code_{why}"

"""A download link's life: every code and download, and the views (once an hour), are in the
case's audit trail.

Opening the link asks for a fresh six-digit code, mailed to the case's verified address at
that moment; the right code opens the download for a short while (a cookie holding a second
token). The package is built at the first download, kept sealed in a file under the var dir,
and purged by the sweep when the link expires, is used up or locked.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot.cases import audit, record_change
from bot.desk import Desk
from bot.notices import code_address, requester_address
from bot.outbox import queue_mail
from bot.retention import PURGED
from bot.web_access import (
    CODE_MINUTES,
    CODES_PER_LINK,
    LINK_VIEWS_AUDITED,
    MAX_WRONG_CODES,
    SESSION_MINUTES,
    new_code,
    new_token,
    same_code,
    take,
    take_in,
    token_hash,
)
from storage.models import Case, DownloadLink
from storage.web import lock_link

logger = logging.getLogger("dsr.downloads")


class PackageUnavailable(Exception):
    """The package could not be built; the requester is asked to contact the desk."""


class Packager(Protocol):
    def __call__(self, desk: Desk, reference: str, *, now: datetime) -> bytes: ...


@dataclass(frozen=True)
class LinkView:
    """What the page shows. `state`: ok, expired, used_up, locked, unknown."""

    state: str
    reference: str = ""
    language: str = "nl"
    code_pending: bool = False
    opened: bool = False
    downloads: int = 0
    max_downloads: int = 0
    expires_at: datetime | None = None
    wrong_codes: int = 0

    @property
    def usable(self) -> bool:
        return self.state == "ok"

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_WRONG_CODES - self.wrong_codes)


UNKNOWN = LinkView(state="unknown")


def link_state(link: DownloadLink, case: Case, now: datetime) -> str:
    """`expired` also once the retention purge has erased the case: the package built before
    must not outlive the case's data."""
    if link.locked:
        return "locked"
    if link.purged_at is not None or now >= link.expires_at or PURGED in case.flags:
        return "expired"
    if link.downloads >= link.max_downloads:
        return "used_up"
    return "ok"


def is_opened(link: DownloadLink, session_token: str | None, now: datetime) -> bool:
    return (
        session_token is not None
        and link.session_hash is not None
        and link.session_until is not None
        and now < link.session_until
        and secrets.compare_digest(link.session_hash, token_hash(session_token))
    )


def _view(link: DownloadLink, case: Case, now: datetime, session_token: str | None) -> LinkView:
    pending = link.code is not None and link.code_issued_at is not None
    return LinkView(
        state=link_state(link, case, now),
        reference=case.reference,
        language=case.language,
        code_pending=pending
        and now - (link.code_issued_at or now) < timedelta(minutes=CODE_MINUTES),
        opened=is_opened(link, session_token, now),
        downloads=link.downloads,
        max_downloads=link.max_downloads,
        expires_at=link.expires_at,
        wrong_codes=link.wrong_codes,
    )


Step = Callable[[Session, DownloadLink, Case], None]


def with_link(
    desk: Desk, *, token: str, now: datetime, session_token: str | None, step: Step | None
) -> LinkView:
    with desk.transaction() as session:
        link = lock_link(session=session, token_hash=token_hash(token))
        case = session.get(Case, link.case_id) if link is not None else None
        if link is None or case is None:
            return UNKNOWN
        if step is not None:
            step(session, link, case)
        return _view(link, case, now, session_token)


def view_link(desk: Desk, *, token: str, session_token: str | None, now: datetime) -> LinkView:
    """The link as its page shows it. The view is audited once an hour per link and state
    (decided under the link's row lock, so instances agree): the trail shows when the link
    was first opened, and a flood of reloads cannot fill it nor hold the trail's lock."""

    def seen(session: Session, link: DownloadLink, case: Case) -> None:
        state = link_state(link, case, now)
        if not take_in(session, desk, checks=[(LINK_VIEWS_AUDITED, f"{link.id}:{state}")], now=now):
            return
        audit(
            session,
            case,
            now=now,
            actor="requester",
            action="download_link_viewed",
            details={"link": link.id, "state": state},
        )

    return with_link(desk, token=token, now=now, session_token=session_token, step=seen)


def send_code(desk: Desk, *, token: str, now: datetime) -> LinkView:
    """A fresh code for an open link, mailed to the verified address at this moment (the
    previous code stops working). At most CODES_PER_LINK an hour: beyond that the view comes
    back with `code_pending` as it was and nothing is sent."""
    link_id: list[int] = []

    def peek(_session: Session, link: DownloadLink, _case: Case) -> None:
        link_id.append(link.id or 0)

    found = with_link(desk, token=token, now=now, session_token=None, step=peek)
    if not found.usable:
        return found
    if not take(desk, checks=[(CODES_PER_LINK, str(link_id[0]))], now=now):
        logger.info("case=%s download code not sent: limit per link", found.reference)
        return found

    def issue(session: Session, link: DownloadLink, case: Case) -> None:
        if link_state(link, case, now) != "ok":
            return
        link.code, link.code_issued_at = new_code(), now
        session.add(link)
        to = requester_address(session, case) or code_address(session, case)
        queue_mail(
            desk,
            session=session,
            case=case,
            template="web_code",
            to=to,
            now=now,
            context={"code": link.code, "minutes": CODE_MINUTES, "purpose": "download"},
            dedupe_key=f"mail:web_code:download:{link.id}:{now.isoformat()}",
            automatic=False,
        )
        audit(
            session,
            case,
            now=now,
            actor="requester",
            action="download_code_sent",
            details={"link": link.id},
        )
        logger.info("case=%s download code sent", case.reference)

    return with_link(desk, token=token, now=now, session_token=None, step=issue)


def check_code(desk: Desk, *, token: str, code: str, now: datetime) -> tuple[LinkView, str | None]:
    """The typed code: right opens the download (returns the session token for the cookie);
    wrong counts, and the fifth wrong code locks the link for good."""
    opened: list[str] = []

    def judge(session: Session, link: DownloadLink, case: Case) -> None:
        if link_state(link, case, now) != "ok":
            return
        fresh = link.code_issued_at is not None and now - link.code_issued_at < timedelta(
            minutes=CODE_MINUTES
        )
        if fresh and same_code(link.code, code):
            session_token = new_token()
            link.code, link.session_hash = None, token_hash(session_token)
            link.session_until = now + timedelta(minutes=SESSION_MINUTES)
            session.add(link)
            opened.append(session_token)
            audit(
                session,
                case,
                now=now,
                actor="requester",
                action="download_code_accepted",
                details={"link": link.id},
            )
            return
        link.wrong_codes += 1
        session.add(link)
        details: dict[str, object] = {"link": link.id, "attempts": link.wrong_codes}
        audit(
            session,
            case,
            now=now,
            actor="requester",
            action="download_code_wrong",
            details={**details, "expired": not fresh},
        )
        if link.wrong_codes >= MAX_WRONG_CODES:
            link.locked, link.code = True, None
            record_change(
                desk,
                session=session,
                case=case,
                now=now,
                actor="system",
                action="download_link_locked",
                details=details,
            )
            logger.warning("case=%s download link locked after wrong codes", case.reference)

    view = with_link(desk, token=token, now=now, session_token=None, step=judge)
    session_token = opened[0] if opened else None
    if session_token is not None:
        view = replace(view, opened=True)
    return view, session_token

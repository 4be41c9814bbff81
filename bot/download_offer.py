"""The download link an access or portability answer is handed over with: made when the case
is closed as done, in the closing transaction, and put into the outcome mail; made again by the
secretariat when a requester's link expired, ran out or locked (`reissue_link`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.desk import Desk
from bot.web_access import new_token, token_hash
from storage.audit import append_event
from storage.cases import get_case_by_reference
from storage.models import Case, DownloadLink
from storage.web import add_link

DOWNLOAD_PATH = "/d/"


def offer_download(desk: Desk, *, session: Session, case: Case, now: datetime) -> str | None:
    """A new link for the case's answer package; its URL (holding the token, which is stored
    only as a hash) or None when the web front is off or the request has no package."""
    from bot.package import is_package_case  # bot.package imports bot.cases, which imports us

    settings = desk.settings
    if not settings.public_url or not is_package_case(case):
        return None
    token = new_token()
    link = add_link(
        session=session,
        link=DownloadLink(
            case_id=case.id or 0,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=settings.download_days),
            max_downloads=settings.download_max,
        ),
    )
    append_event(
        session=session,
        at=now,
        actor="system",
        action="download_link_created",
        case_id=case.id,
        reference=case.reference,
        details={
            "link": link.id,
            "expires_at": link.expires_at.isoformat(),
            "max_downloads": link.max_downloads,
        },
    )
    return f"{settings.public_url.rstrip('/')}{DOWNLOAD_PATH}{token}"


class ReissueRefused(ValueError):
    """No new link for this case; the message says why."""


def reissue_link(desk: Desk, *, reference: str, actor: str, note: str, now: datetime) -> datetime:
    """A new link for a case closed as done, mailed to the requester's verified address; every
    earlier link of the case ends now (the sweep purges its package). Returns the new link's
    expiry. The URL is never shown to the secretariat: only the requester receives it."""
    from bot.notices import requester_address  # bot.notices is imported by bot.cases
    from bot.outbox import queue_mail

    if not note.strip():
        raise ReissueRefused("say why a new link is sent (--note), for the audit trail")
    with desk.transaction() as session:
        case = get_case_by_reference(session=session, reference=reference)
        if case is None:
            raise ReissueRefused(f"no case {reference}")
        if case.state != "done":
            raise ReissueRefused(f"{reference} is not closed as done; a link follows the answer")
        to = requester_address(session, case)
        if to is None:
            raise ReissueRefused(f"{reference} has no address to send a link to")
        earlier = session.exec(
            select(DownloadLink)
            .where(DownloadLink.case_id == case.id)
            .where(col(DownloadLink.purged_at).is_(None))
            .where(col(DownloadLink.expires_at) > now)
        ).all()
        for link in earlier:
            link.expires_at = now
            session.add(link)
        url = offer_download(desk, session=session, case=case, now=now)
        if url is None:
            raise ReissueRefused(
                f"{reference} has no answer package to link to, or the web front is off "
                "(DSR_PUBLIC_URL)"
            )
        expires = now + timedelta(days=desk.settings.download_days)
        queue_mail(
            desk,
            session=session,
            case=case,
            template="download_link",
            to=to,
            now=now,
            context={
                "download_url": url,
                "download_days": desk.settings.download_days,
                "download_max": desk.settings.download_max,
            },
            dedupe_key=f"mail:download-link:{case.id}:{now.isoformat()}",
            automatic=False,
        )
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="download_link_reissued",
            case_id=case.id,
            reference=case.reference,
            details={"ended": len(earlier), "expires_at": expires.isoformat()},
            note=note,
        )
    return expires

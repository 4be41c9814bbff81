"""The download link an access or portability answer is handed over with: made when the case
is closed as done, in the closing transaction, and put into the outcome mail."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.desk import Desk
from bot.web_access import new_token, token_hash
from storage.audit import append_event
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

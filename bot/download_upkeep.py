"""Keeping the download links tidy: the sweep purges a package once its link can no longer
be used (expired, used up or locked), exactly once across instances; and what the secretariat
sees of a case's link ("downloaded on ...")."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.desk import Desk
from bot.download_files import packages_dir
from bot.retention import PURGED
from bot.web_access import CODE_MINUTES, SESSION_MINUTES
from storage.audit import append_event
from storage.models import Case, DownloadLink
from storage.web import claim_purge, forget_old, latest_link, links_to_purge, live_links

logger = logging.getLogger("dsr.downloads")
BATCH = 200
HITS_KEPT = timedelta(days=1)


def purge_links(desk: Desk, *, now: datetime) -> int:
    """Purge the packages of links that can no longer be used (also those of cases the
    retention purge erased); how many this call purged.
    The row is claimed (purged_at set where it was empty) and the file removed in one
    transaction: a second sweep, here or on another instance, finds nothing left to claim."""
    purged = 0
    while True:
        with desk.reading() as session:
            batch = [
                (link.id or 0, link.case_id)
                for link in links_to_purge(session=session, now=now, limit=BATCH)
            ]
        for link_id, case_id in batch:
            purged += _purge_one(desk, link_id=link_id, case_id=case_id, now=now)
        if len(batch) < BATCH:
            break
    with desk.reading() as session:  # erased by the retention purge: the package goes too
        erased = [
            (link.id or 0, link.case_id)
            for link, case in live_links(session=session)
            if PURGED in case.flags
        ]
    for link_id, case_id in erased:
        purged += _purge_one(desk, link_id=link_id, case_id=case_id, now=now)
    with desk.transaction() as session:
        forget_old(
            session=session,
            hits_before=now - HITS_KEPT,
            accesses_before=now - timedelta(minutes=CODE_MINUTES + SESSION_MINUTES),
        )
    if purged:
        logger.info("downloads: %d package(s) purged", purged)
    return purged


def _purge_one(desk: Desk, *, link_id: int, case_id: int, now: datetime) -> int:
    with desk.transaction() as session:
        link = session.get(DownloadLink, link_id)
        name = link.package_file if link is not None else None
        if not claim_purge(session=session, link_id=link_id, now=now):
            return 0
        if name:
            (packages_dir(desk) / name).unlink(missing_ok=True)
        case = session.get(Case, case_id)
        append_event(
            session=session,
            at=now,
            actor="system",
            action="download_package_purged",
            case_id=case_id,
            reference=case.reference if case else None,
            details={"link": link_id, "had_package": bool(name)},
        )
    return 1


def download_summary(
    session: Session, *, case_id: int | None, tz: ZoneInfo
) -> dict[str, Any] | None:
    """The case's latest link as `dsr cases show` and Slack show it; None when it has none."""
    if case_id is None:
        return None
    link = latest_link(session=session, case_id=case_id)
    if link is None:
        return None

    def local(at: datetime | None) -> str | None:
        return at.astimezone(tz).isoformat(timespec="minutes") if at else None

    return {
        "created_at": local(link.created_at),
        "expires_at": local(link.expires_at),
        "downloads": link.downloads,
        "max_downloads": link.max_downloads,
        "first_download_at": local(link.first_download_at),
        "last_download_at": local(link.last_download_at),
        "locked": link.locked,
        "purged": link.purged_at is not None,
    }


def download_line(summary: dict[str, Any] | None) -> str | None:
    """One line for a person: `downloaded on 2026-03-20 10:12 (1 of 5)`, or what else."""
    if summary is None:
        return None
    if summary["first_download_at"]:
        when = str(summary["first_download_at"]).replace("T", " ")[:16]
        return (
            f"downloaded on {when} ({summary['downloads']} of {summary['max_downloads']}) / "
            f"gedownload op {when}"
        )
    if summary["locked"]:
        return "download link locked after wrong codes / downloadlink geblokkeerd"
    if summary["purged"]:
        return "download link expired, not downloaded / downloadlink verlopen, niet gedownload"
    until = str(summary["expires_at"])[:10]
    return f"download link sent, not yet used (until {until}) / downloadlink verstuurd"


def download_note(desk: Desk, *, case_id: int | None) -> str | None:
    """`download_line` of the case's latest link, for its Slack message."""
    with desk.reading() as session:
        return download_line(download_summary(session, case_id=case_id, tz=desk.tz))

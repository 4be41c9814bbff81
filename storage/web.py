"""Queries of the requester's web front: download links, status-page accesses, rate hits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, delete, func, insert, or_, update
from sqlmodel import Session, col, select

from storage.models import Case, DownloadLink, StatusAccess, WebRateHit

_HITS: Table = WebRateHit.__table__  # type: ignore[attr-defined]
_LINKS: Table = DownloadLink.__table__  # type: ignore[attr-defined]


def add_link(*, session: Session, link: DownloadLink) -> DownloadLink:
    session.add(link)
    session.flush()
    return link


def lock_link(*, session: Session, token_hash: str) -> DownloadLink | None:
    """The link with this token hash, locked until commit on PostgreSQL (SQLite's write
    transaction holds the whole database; SQLAlchemy leaves FOR UPDATE out there)."""
    statement = select(DownloadLink).where(DownloadLink.token_hash == token_hash)
    return session.exec(statement.with_for_update()).first()


def find_link(*, session: Session, token_hash: str) -> DownloadLink | None:
    return session.exec(select(DownloadLink).where(DownloadLink.token_hash == token_hash)).first()


def latest_link(*, session: Session, case_id: int) -> DownloadLink | None:
    statement = (
        select(DownloadLink)
        .where(DownloadLink.case_id == case_id)
        .order_by(col(DownloadLink.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def links_to_purge(*, session: Session, now: datetime, limit: int) -> Sequence[DownloadLink]:
    """Links past their life, used up or locked whose package is not yet purged."""
    statement = (
        select(DownloadLink)
        .where(col(DownloadLink.purged_at).is_(None))
        .where(
            or_(
                col(DownloadLink.expires_at) <= now,
                col(DownloadLink.locked).is_(True),
                col(DownloadLink.downloads) >= col(DownloadLink.max_downloads),
            )
        )
        .order_by(col(DownloadLink.id))
        .limit(limit)
    )
    return session.exec(statement).all()


def live_links(*, session: Session) -> Sequence[tuple[DownloadLink, Case]]:
    """Links whose package is not purged yet, with their cases (the live ones: few)."""
    statement = (
        select(DownloadLink, Case)
        .where(DownloadLink.case_id == Case.id)
        .where(col(DownloadLink.purged_at).is_(None))
        .order_by(col(DownloadLink.id))
    )
    return session.exec(statement).all()


def claim_purge(*, session: Session, link_id: int, now: datetime) -> bool:
    """Mark the link purged; True only for the one caller that changed the row (exactly once
    across instances: the UPDATE's condition is checked under the row's write lock)."""
    result = session.execute(
        update(_LINKS)
        .where(_LINKS.c.id == link_id, _LINKS.c.purged_at.is_(None))
        .values(purged_at=now, package_file=None, code=None, session_hash=None)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def add_access(*, session: Session, access: StatusAccess) -> StatusAccess:
    session.add(access)
    session.flush()
    return access


def find_access(*, session: Session, token_hash: str) -> StatusAccess | None:
    return session.exec(select(StatusAccess).where(StatusAccess.token_hash == token_hash)).first()


def lock_access(*, session: Session, token_hash: str) -> StatusAccess | None:
    statement = select(StatusAccess).where(StatusAccess.token_hash == token_hash)
    return session.exec(statement.with_for_update()).first()


def count_hits(*, session: Session, bucket: str, since: datetime) -> int:
    statement = (
        select(func.count())
        .select_from(WebRateHit)
        .where(WebRateHit.bucket == bucket)
        .where(col(WebRateHit.at) > since)
    )
    return int(session.exec(statement).one())


def add_hit(*, session: Session, bucket: str, at: datetime) -> None:
    session.execute(insert(_HITS), {"bucket": bucket, "at": at})


def forget_old(*, session: Session, hits_before: datetime, accesses_before: datetime) -> int:
    """Drop rate hits and status accesses nobody can use any more; how many rows went."""
    hits = session.execute(delete(_HITS).where(_HITS.c.at < hits_before))
    old = StatusAccess.__table__  # type: ignore[attr-defined]
    accesses = session.execute(delete(old).where(old.c.expires_at < accesses_before))
    return int(getattr(hits, "rowcount", 0) or 0) + int(getattr(accesses, "rowcount", 0) or 0)

"""The answer package behind a download link: built at the first download (outside any
transaction: the builder opens its own), kept sealed in a file under the var dir until the
sweep purges it, and counted on the case at every download."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from bot.cases import record_change
from bot.desk import Desk
from bot.downloads import LinkView, Packager, is_opened, link_state, with_link
from bot.web_access import token_hash
from storage.models import Case, DownloadLink
from storage.web import find_link

logger = logging.getLogger("dsr.downloads")


def download(
    desk: Desk, *, token: str, session_token: str | None, now: datetime, packager: Packager
) -> tuple[LinkView, bytes | None]:
    """The package for an opened link (built and stored sealed at the first download); each
    download counts against the link's limit and is recorded on the case."""
    view = with_link(desk, token=token, now=now, session_token=session_token, step=None)
    if not (view.usable and view.opened):
        return view, None
    stored = _stored_file(desk, token=token)
    if stored is None:
        stored = _build(desk, token=token, reference=view.reference, now=now, packager=packager)
    counted: list[Path] = []

    def count(session: Session, link: DownloadLink, case: Case) -> None:
        if link_state(link, case, now) != "ok" or not is_opened(link, session_token, now):
            return
        if link.package_file is None or not (packages_dir(desk) / link.package_file).exists():
            link.package_file = stored.name
        link.downloads += 1
        link.first_download_at = link.first_download_at or now
        link.last_download_at = now
        session.add(link)
        counted.append(packages_dir(desk) / link.package_file)
        record_change(
            desk,
            session=session,
            case=case,
            now=now,
            actor="requester",
            action="downloaded",
            details={"link": link.id, "count": link.downloads, "max": link.max_downloads},
        )
        logger.info(
            "case=%s package downloaded (%d of %d)",
            case.reference,
            link.downloads,
            link.max_downloads,
        )

    view = with_link(desk, token=token, now=now, session_token=session_token, step=count)
    if not counted:
        return view, None
    if counted[0] != stored:
        stored.unlink(missing_ok=True)  # another download stored the package first
    return view, desk.sealer.open(counted[0].read_bytes())


def packages_dir(desk: Desk) -> Path:
    return desk.settings.var_dir / "packages"


def _stored_file(desk: Desk, *, token: str) -> Path | None:
    with desk.reading() as session:
        link = find_link(session=session, token_hash=token_hash(token))
        name = link.package_file if link is not None else None
    path = packages_dir(desk) / name if name else None
    return path if path is not None and path.exists() else None


def _build(desk: Desk, *, token: str, reference: str, now: datetime, packager: Packager) -> Path:
    """Build the package outside any transaction (the builder opens its own) and store it
    sealed; the caller's transaction decides whether this file is the one kept."""
    data = packager(desk, reference, now=now)
    folder = packages_dir(desk)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}.zip.sealed"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(desk.sealer.seal(data))
    logger.info("case=%s package built for download (%d bytes)", reference, len(data))
    return path

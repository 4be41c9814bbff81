"""The sweep purges a download link's package once the link can no longer be used, exactly
once however many sweeps run at the same time (both databases)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot import cases as core
from bot.desk import Desk
from bot.download_files import packages_dir
from bot.download_offer import offer_download
from bot.download_upkeep import download_line, download_summary, purge_links
from bot.sweep import run_sweep
from storage.cases import lock_case
from storage.models import AuditEvent, DownloadLink
from tests.factories import T0, new_case


def _linked(desk: Desk, tmp_path: Path) -> tuple[str, Path]:
    """A done case with a link whose package file is stored; returns (reference, file)."""
    public = Desk(
        settings=desk.settings.model_copy(update={"public_url": "https://desk.example.nl"}),
        engine=desk.engine,
    )
    case = new_case(public)
    core.verify_by_hand(public, reference=case.reference, note="gezien", actor="t", now=T0)
    folder = packages_dir(desk)
    folder.mkdir(parents=True)
    stored = folder / "p.zip.sealed"
    stored.write_bytes(b"sealed")
    with public.transaction() as session:
        locked = lock_case(session=session, reference=case.reference)
        assert locked is not None
        url = offer_download(public, session=session, case=locked, now=T0)
        assert url is not None and url.startswith("https://desk.example.nl/d/")
        link = session.exec(select(DownloadLink)).one()
        link.package_file = stored.name
        session.add(link)
    return case.reference, stored


def _purged_events(desk: Desk) -> int:
    with desk.reading() as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.action == "download_package_purged")
        ).all()
    return len(rows)


def test_the_sweep_purges_an_expired_package_once(desk: Desk, tmp_path: Path) -> None:
    reference, stored = _linked(desk, tmp_path)
    before = T0 + timedelta(days=desk.settings.download_days) - timedelta(seconds=1)
    run_sweep(desk, now=before)
    assert stored.exists() and _purged_events(desk) == 0
    after = before + timedelta(seconds=1)
    run_sweep(desk, now=after, dry_run=True)
    assert stored.exists()
    run_sweep(desk, now=after)
    run_sweep(desk, now=after + timedelta(hours=1))
    assert not stored.exists() and _purged_events(desk) == 1
    with desk.reading() as session:
        link = session.exec(select(DownloadLink)).one()
        summary = download_summary(session, case_id=link.case_id, tz=desk.tz)
    assert link.purged_at == after and link.package_file is None
    assert download_line(summary) == (
        "download link expired, not downloaded / downloadlink verlopen, niet gedownload"
    )
    assert reference


def test_sweeps_at_the_same_time_purge_once(desk: Desk, tmp_path: Path) -> None:
    _linked(desk, tmp_path)
    now = T0 + timedelta(days=desk.settings.download_days, hours=1)
    counts: list[int] = []
    start = threading.Barrier(4)

    def sweep() -> None:
        start.wait()
        counts.append(purge_links(desk, now=now))

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, 1] and _purged_events(desk) == 1


def test_a_used_up_or_locked_link_is_purged_before_it_expires(desk: Desk, tmp_path: Path) -> None:
    _, stored = _linked(desk, tmp_path)
    with desk.transaction() as session:
        link = session.exec(select(DownloadLink)).one()
        link.downloads = link.max_downloads
        session.add(link)
    assert purge_links(desk, now=T0 + timedelta(hours=1)) == 1
    assert not stored.exists()
    with desk.reading() as session:
        ids = session.exec(select(col(DownloadLink.id))).all()
    assert len(ids) == 1

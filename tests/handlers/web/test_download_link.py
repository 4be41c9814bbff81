"""The download link over real HTTP on loopback, with the real package: code by mail to the
verified address, the ZIP, the limits (expiry, downloads, five wrong codes), the audit trail,
the purge, and what the secretariat sees (both databases)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, select

from bot.desk import Desk
from bot.download_files import packages_dir
from bot.download_offer import ReissueRefused, reissue_link
from bot.download_upkeep import download_line, download_summary, purge_links
from storage.identity import add_check
from storage.models import AuditEvent, DownloadLink
from tests.factories import T0, new_case
from tests.handlers.web.conftest import Browser
from tests.handlers.web.site import (
    LINK,
    Clock,
    closed_access_case,
    download_link,
    latest_code,
    mails,
    running_site,
    text_of,
)


def actions(desk: Desk, reference: str) -> list[str]:
    with desk.reading() as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.reference == reference).order_by(col(AuditEvent.id))
        ).all()
    return [row.action for row in rows]


async def _open(browser: Browser, link: str, desk: Desk) -> str:
    status, body = await browser.get(link)
    assert status == 200 and "Stuur mij een code" in body
    path = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
    response = await browser.post(f"/{path}/code")
    assert response.status == 200 and str(response.url).endswith("/code")
    return f"/{path}"


async def test_the_whole_path_from_mail_to_zip(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running_site(web_desk, clock) as site:
        reference = closed_access_case(site.desk)
        link = download_link(site.desk)
        browser = Browser(http, site.url)
        base = await _open(browser, link, site.desk)
        to, code = latest_code(site.desk)
        assert to == "jan.jansen@example.nl"
        response = await browser.post(f"{base}/check", {"code": f"{code[:3]} {code[3:]}"})
        assert response.status == 200 and str(response.url).endswith("/file")
        response = await browser.post(f"{base}/file", follow=False)
        assert response.status == 200
        assert response.headers["Content-Disposition"] == f'attachment; filename="{reference}.zip"'
        assert response.headers["Cache-Control"] == "no-store"
        archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(archive.namelist())
    assert "index.csv" in names and any(n.startswith("crm/") for n in names)
    assert any(n.startswith("financien/") for n in names)
    trail = actions(site.desk, reference)
    for action in (
        "download_link_created",
        "download_link_viewed",
        "download_code_sent",
        "download_code_accepted",
        "package_built",
        "downloaded",
    ):
        assert action in trail, action
    with site.desk.reading() as session:
        summary = download_summary(session, case_id=_case_id(site.desk, reference), tz=site.desk.tz)
    assert summary is not None and summary["downloads"] == 1
    line = download_line(summary)
    assert line is not None and line.startswith("downloaded on ")
    stored = list(packages_dir(site.desk).iterdir())
    assert len(stored) == 1 and b"PK" not in stored[0].read_bytes()[:4]  # sealed, not a ZIP


def _case_id(desk: Desk, reference: str) -> int:
    from bot.cases import get_case

    return get_case(desk, reference=reference).id or 0


async def test_the_code_goes_to_the_verified_address_not_the_sender(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """The register knew the person at another address: the identity code went there, so the
    download code goes there too, not to the address the request came from."""
    async with running_site(web_desk, clock) as site:
        case = new_case(site.desk, requester="jan.prive@example.org")
        with site.desk.transaction() as session:
            add_check(
                session=session,
                case_id=case.id or 0,
                secret=b"S" * 32,
                sent_to="j.jansen@werkgever.example.nl",
                issued_at=T0,
            )
        closed_access_case(site.desk, case=case)
        await _open(Browser(http, site.url), download_link(site.desk), site.desk)
        assert latest_code(site.desk)[0] == "j.jansen@werkgever.example.nl"
        assert mails(site.desk, kind="outcome_done")[-1][0] == "j.jansen@werkgever.example.nl"


async def test_five_wrong_codes_lock_the_link_for_good(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running_site(web_desk, clock) as site:
        reference = closed_access_case(site.desk)
        browser = Browser(http, site.url)
        base = await _open(browser, download_link(site.desk), site.desk)
        _, code = latest_code(site.desk)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for attempt in range(1, 6):
            response = await browser.post(f"{base}/check", {"code": wrong})
            body = await response.text()
            if attempt < 5:
                assert response.status == 200 and f"nog {5 - attempt} keer" in body
        assert response.status == 410 and "geblokkeerd" in body
        response = await browser.post(f"{base}/check", {"code": code})
        assert response.status == 410
        status, _ = await browser.get(base)
        assert status == 410
    trail = actions(site.desk, reference)
    assert trail.count("download_code_wrong") == 5 and "download_link_locked" in trail
    assert "download_code_accepted" not in trail


async def test_an_expired_link_is_refused_and_purged_exactly_once(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running_site(web_desk, clock) as site:
        reference = closed_access_case(site.desk)
        browser = Browser(http, site.url)
        base = await _open(browser, download_link(site.desk), site.desk)
        _, code = latest_code(site.desk)
        await browser.post(f"{base}/check", {"code": code})
        await browser.post(f"{base}/file", follow=False)
        assert len(list(packages_dir(site.desk).iterdir())) == 1
        clock.advance(days=site.desk.settings.download_days)
        status, body = await browser.get(base)
        assert status == 410 and "voorbij" in body
        response = await browser.post(f"{base}/file", follow=False)
        assert response.status == 410
        assert purge_links(site.desk, now=clock.now) == 1
        assert purge_links(site.desk, now=clock.now) == 0
    assert list(packages_dir(site.desk).iterdir()) == []
    assert actions(site.desk, reference).count("download_package_purged") == 1
    with site.desk.reading() as session:
        link = session.exec(select(DownloadLink)).one()
    assert link.purged_at is not None and link.package_file is None and link.code is None


async def test_the_download_limit_is_kept(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    two = Desk(
        settings=web_desk.settings.model_copy(update={"download_max": 2}), engine=web_desk.engine
    )
    async with running_site(two, clock) as site:
        closed_access_case(site.desk)
        browser = Browser(http, site.url)
        base = await _open(browser, download_link(site.desk), site.desk)
        _, code = latest_code(site.desk)
        await browser.post(f"{base}/check", {"code": code})
        first = await browser.post(f"{base}/file", follow=False)
        second = await browser.post(f"{base}/file", follow=False)
        assert await first.read() == await second.read()
        third = await browser.post(f"{base}/file", follow=False)
        assert third.status == 410 and "zo vaak gedownload" in await third.text()


async def test_without_the_code_there_is_no_download(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running_site(web_desk, clock) as site:
        closed_access_case(site.desk)
        browser = Browser(http, site.url)
        base = await _open(browser, download_link(site.desk), site.desk)
        response = await browser.post(f"{base}/file", follow=False)
        assert response.status == 303 and response.headers["Location"] == base
        status, body = await browser.get(f"{base}/file")
        assert status == 200 and "Stuur mij een code" in body


async def test_the_secretariat_mails_a_new_link_after_a_lock_and_the_old_one_ends(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    """A requester locked the link with five wrong codes and replied to the mail: the
    secretariat sends a new link (with a note why); it opens, the old one stays dead, and the
    URL reaches only the requester's verified address."""
    async with running_site(web_desk, clock) as site:
        reference = closed_access_case(site.desk)
        browser = Browser(http, site.url)
        old = download_link(site.desk)
        base = await _open(browser, old, site.desk)
        _, code = latest_code(site.desk)
        for _ in range(5):
            await browser.post(f"{base}/check", {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
        with pytest.raises(ReissueRefused, match="--note"):
            reissue_link(site.desk, reference=reference, actor="cli:anna", note=" ", now=clock.now)
        reissue_link(
            site.desk,
            reference=reference,
            actor="cli:anna",
            note="verzoeker belde: code verkeerd overgetypt",
            now=clock.now,
        )
        [(to, mail)] = mails(site.desk, kind="download_link")
        assert to == "jan.jansen@example.nl"
        [new] = LINK.findall(text_of(mail))
        assert new != old
        base = await _open(browser, new, site.desk)
        _, code = latest_code(site.desk)
        response = await browser.post(f"{base}/check", {"code": code})
        assert response.status == 200
        status, _ = await browser.get(old)
        assert status == 410
    assert "download_link_reissued" in actions(site.desk, reference)


def test_no_new_link_for_a_case_that_is_not_closed_as_done(web_desk: Desk) -> None:
    case = new_case(web_desk)
    with pytest.raises(ReissueRefused, match="not closed as done"):
        reissue_link(web_desk, reference=case.reference, actor="t", note="x", now=T0)


async def test_an_unexpected_failure_shows_a_page_and_logs_no_address_or_token(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash behind the download (here: the package builder) gives the requester the
    'not available right now' page (500), and the log names the route and the error's kind,
    not the requester's IP address nor the token in the path."""

    def broken(desk: Desk, reference: str, *, now: datetime) -> bytes:
        raise RuntimeError(f"disk full while packing for {reference}")

    caplog.set_level("DEBUG")
    async with running_site(web_desk, clock, packager=broken) as site:
        closed_access_case(site.desk)
        link = download_link(site.desk)
        browser = Browser(http, site.url)
        base = await _open(browser, link, site.desk)
        _, code = latest_code(site.desk)
        await browser.post(f"{base}/check", {"code": code})
        response = await browser.post(f"{base}/file", follow=False)
        body = await response.text()
    assert response.status == 500 and "Even niet beschikbaar" in body
    token = link.rsplit("/", 1)[1]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert token not in logged and "127.0.0.1" not in logged

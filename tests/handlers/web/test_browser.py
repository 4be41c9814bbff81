"""The web front in a real browser: Debian's Chromium, headless, driven by Playwright. The
whole path of a download (link from the outcome mail, code from the outbox, the ZIP), the
status page in both languages with a withdrawal, an expired link, five wrong codes.

With DSR_SCREENSHOTS=DIR every page is saved as DIR/<page>-<lang>.png (docs/web.md shows
them): `DSR_SCREENSHOTS=docs/screenshots uv run pytest tests/handlers/web/test_browser.py`.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from bot.desk import Desk
from tests.conftest import IN_CI
from tests.factories import new_case
from tests.handlers.web.site import (
    Clock,
    Site,
    case_of,
    closed_access_case,
    download_link,
    latest_code,
    running_site,
)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WORDS = {
    "nl": {
        "send": "Stuur mij een code",
        "label": "Code van zes cijfers",
        "check": "Code controleren",
        "download": "Download het zip-bestand",
        "reference": "Kenmerk",
        "address": "E-mailadres",
        "confirm": "Ik trek mijn verzoek",
        "withdraw": "Verzoek intrekken",
        "tick": "Vink eerst aan",
        "withdrawn": "Ingetrokken",
        "skip": "Naar de inhoud",
    },
    "en": {
        "send": "Send me a code",
        "label": "Six-digit code",
        "check": "Check the code",
        "download": "Download the ZIP file",
        "reference": "Reference",
        "address": "E-mail address",
        "confirm": "I withdraw my request",
        "withdraw": "Withdraw the request",
        "tick": "First tick the box",
        "withdrawn": "Withdrawn",
        "skip": "Skip to content",
    },
}


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing (CI=true: no silent skip); .ci/run installs it")
    pytest.skip("Chromium from Debian is not installed (apt-get install chromium)")


@pytest.fixture
async def page(db_url: str) -> AsyncIterator[Page]:
    require_chromium()
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = await browser.new_context(
            accept_downloads=True, java_script_enabled=False, viewport={"width": 800, "height": 600}
        )
        try:
            yield await context.new_page()
        finally:
            await context.close()
            await browser.close()


async def shot(page: Page, db_url: str, name: str, lang: str) -> None:
    """A screenshot for the docs when DSR_SCREENSHOTS names a folder (SQLite runs only)."""
    folder = os.environ.get("DSR_SCREENSHOTS")
    if folder and db_url.startswith("sqlite"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(folder) / f"{name}-{lang}.png"), full_page=True)


async def _code_page(page: Page, site: Site, lang: str, db_url: str) -> str:
    """Open the link from the outcome mail and ask for a code; returns the link."""
    link = download_link(site.desk)
    await page.goto(link)
    await shot(page, db_url, "download-start", lang)
    await page.get_by_role("button", name=WORDS[lang]["send"]).click()
    assert page.url == f"{link}/code"
    await shot(page, db_url, "download-code", lang)
    return link


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_download_from_mail_to_zip(
    page: Page, web_desk: Desk, clock: Clock, db_url: str, lang: str
) -> None:
    words = WORDS[lang]
    async with running_site(web_desk, clock) as site:
        reference = closed_access_case(site.desk, language=lang)
        await _code_page(page, site, lang, db_url)
        to, code = latest_code(site.desk)
        assert to == "jan.jansen@example.nl"
        await page.get_by_label(words["label"]).fill(code)
        await page.get_by_role("button", name=words["check"]).click()
        await shot(page, db_url, "download-ready", lang)
        async with page.expect_download() as info:
            await page.get_by_role("button", name=words["download"]).click()
        download = await info.value
        assert download.suggested_filename == f"{reference}.zip"
        data = Path(await download.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "index.csv" in names
    assert {"crm", "financien"} <= {n.split("/", 1)[0] for n in names if "/" in n}
    letter = "brief" if lang == "nl" else "letter"
    assert any(n.startswith(letter) for n in names)


@pytest.mark.parametrize("lang", ["nl", "en"])
async def test_status_page_and_withdrawal(
    page: Page, web_desk: Desk, clock: Clock, db_url: str, lang: str
) -> None:
    words = WORDS[lang]
    case = new_case(web_desk, language=lang)
    async with running_site(web_desk, clock) as site:
        await page.goto(f"{site.url}/status?lang={lang}")
        await shot(page, db_url, "status-start", lang)
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.textContent")
        assert focused == words["skip"]
        await page.get_by_label(words["reference"]).fill(case.reference)
        await page.get_by_label(words["address"]).fill("jan.jansen@example.nl")
        await page.get_by_role("button", name=words["send"]).click()
        await shot(page, db_url, "status-code", lang)
        _, code = await site.code()
        await page.get_by_label(words["label"]).fill(code)
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{site.url}/status/case")
        await shot(page, db_url, "status-case", lang)
        await page.get_by_role("button", name=words["withdraw"]).click()
        assert words["tick"] in await page.content()
        await page.get_by_label(words["confirm"]).check()
        await page.get_by_role("button", name=words["withdraw"]).click()
        assert words["withdrawn"] in await page.content()
        await shot(page, db_url, "status-withdrawn", lang)
    assert case_of(site.desk, case.reference).state == "withdrawn"


async def test_an_expired_link(page: Page, web_desk: Desk, clock: Clock, db_url: str) -> None:
    async with running_site(web_desk, clock) as site:
        closed_access_case(site.desk)
        clock.advance(days=site.desk.settings.download_days, seconds=1)
        link = download_link(site.desk)
        for lang in ("nl", "en"):
            response = await page.goto(f"{link}?lang={lang}")
            assert response.status == 410
            heading = await page.get_by_role("heading", level=1).text_content()
            assert heading in {"Deze link werkt niet (meer)", "This link does not work (any more)"}
            await shot(page, db_url, "link-expired", lang)


async def test_five_wrong_codes(page: Page, web_desk: Desk, clock: Clock, db_url: str) -> None:
    words = WORDS["nl"]
    async with running_site(web_desk, clock) as site:
        closed_access_case(site.desk)
        link = await _code_page(page, site, "nl", db_url)
        _, code = latest_code(site.desk)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            await page.get_by_label(words["label"]).fill(wrong)
            await page.get_by_role("button", name=words["check"]).click()
        assert "geblokkeerd" in await page.content()
        await shot(page, db_url, "link-locked", "nl")
        await page.goto(f"{link}?lang=en")
        assert "locked this link" in await page.content()
        await shot(page, db_url, "link-locked", "en")

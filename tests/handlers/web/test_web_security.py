"""The web front's security rules without a browser: headers, forged forms, rate limits, no
oracle on the status page, and no token, code or address in the logs."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from sqlmodel import func, select

from bot import requester_status as status
from bot.desk import Desk
from storage.models import StatusAccess
from tests.factories import new_case
from tests.handlers.web.conftest import Browser
from tests.handlers.web.site import (
    Clock,
    closed_access_case,
    download_link,
    latest_code,
    mails,
    running_site,
)
from tests.handlers.web.work_trace import statements

PAGES = ["/status", "/nothing-here", "/d/" + "x" * 43]


def _accesses(desk: Desk) -> int:
    with desk.reading() as session:
        return int(session.exec(select(func.count()).select_from(StatusAccess)).one())


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_carries_the_security_headers(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession, path: str
) -> None:
    async with running_site(web_desk, clock) as site, http.get(site.url + path) as response:
        headers = response.headers
        body = await response.text()
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "<script" not in body
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert '<html lang="nl">' in body


async def test_the_style_sheet_is_cacheable_and_the_page_switches_language(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running_site(web_desk, clock) as site:
        async with http.get(site.url + "/static/site.css") as response:
            assert response.status == 200 and "max-age" in response.headers["Cache-Control"]
        async with http.get(site.url + "/status?lang=en") as response:
            assert '<html lang="en">' in await response.text()
        async with http.get(site.url + "/status") as response:
            assert '<html lang="en">' in await response.text()  # the choice is remembered


async def test_a_forged_form_is_refused_before_any_work(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    case = new_case(web_desk)
    form = {"reference": case.reference, "address": "jan.jansen@example.nl"}
    async with running_site(web_desk, clock) as site:
        # Another site's page posting into ours: no form token (the cookie is not sent along).
        async with aiohttp.ClientSession() as stranger:
            async with stranger.post(site.url + "/status", data=form) as response:
                assert response.status == 403
        browser = Browser(http, site.url)
        await browser.get("/status")
        forged = await http.post(site.url + "/status", data={**form, "csrf": "x" * 43})
        assert forged.status == 403
        other_origin = await http.post(
            site.url + "/status",
            data={**form, "csrf": browser.token},
            headers={"Origin": "https://evil.example"},
        )
        assert other_origin.status == 403
        cross_site = await http.post(
            site.url + "/status",
            data={**form, "csrf": browser.token},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert cross_site.status == 403
        assert mails(site.desk, kind="web_code") == [] and _accesses(site.desk) == 0
        honest = await browser.post("/status", form)
        await site.settle()
        assert honest.status == 200 and len(mails(site.desk, kind="web_code")) == 1


async def test_codes_are_limited_per_address_and_forms_per_ip(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with running_site(web_desk, clock) as site:
        browser = Browser(http, site.url)
        await browser.get("/status")
        answers = []
        for _ in range(6):
            response = await browser.post(
                "/status", {"reference": "DSR-2026-9999", "address": "Someone@Example.org"}
            )
            answers.append(response.status)
        assert answers == [200] * 5 + [429]
        # Another address from the same IP is not held back by that limit ...
        response = await browser.post(
            "/status", {"reference": "DSR-2026-9999", "address": "other@example.org"}
        )
        assert response.status == 200
        # ... but the IP address's own limit (30 forms in 10 minutes) is.
        for _ in range(30 - 7):
            await browser.post("/status/code", {"code": "000000"})
        response = await browser.post("/status/code", {"code": "000000"})
        assert response.status == 429
        clock.advance(minutes=11)
        response = await browser.post("/status/code", {"code": "000000"})
        assert response.status != 429


async def test_no_oracle_same_answer_whether_or_not_the_pair_exists(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    case = new_case(web_desk)
    async with running_site(web_desk, clock) as site:
        answers = []
        for reference, address in [
            (case.reference, "jan.jansen@example.nl"),  # matches
            (case.reference, "iemand@example.org"),  # right reference, other address
            ("DSR-2026-9999", "jan.jansen@example.nl"),  # no such reference
        ]:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as fresh:
                browser = Browser(fresh, site.url)
                await browser.get("/status")
                first = await browser.post(
                    "/status", {"reference": reference, "address": address}, follow=False
                )
                cookies = sorted(first.cookies)
                page = await browser.post("/status/code", {"code": "123456"})
                body = (await page.text()).replace(browser.token, "TOKEN")
                answers.append(
                    (first.status, first.headers["Location"], cookies, page.status, body)
                )
        assert answers[0] == answers[1] == answers[2]
        await site.settle()
        assert len(mails(site.desk, kind="web_code")) == 1


def test_no_oracle_in_the_work_either(web_desk: Desk, clock: Clock) -> None:
    """The work behind a matching and a non-matching pair is the same (a code is made, an
    access stored, a mail rendered; only the queueing differs): the same statements reach the
    database. The times are figures in benchmarks/web_oracle.py."""
    case = new_case(web_desk)
    sent: dict[bool, list[str]] = {}
    for match in (True, False):
        address = "jan.jansen@example.nl" if match else "x@example.org"
        with statements(web_desk.engine) as seen:
            status.start(web_desk, reference=case.reference, address=address, now=clock.now)
        sent[match] = seen
    assert sent[True] == sent[False] and sent[True]


async def test_tokens_codes_and_addresses_stay_out_of_the_logs(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_site(web_desk, clock) as site:
        reference = closed_access_case(site.desk)
        link = download_link(site.desk)
        token = link.rsplit("/", 1)[1]
        browser = Browser(http, site.url)
        await browser.get(link)
        await browser.post(f"/d/{token}/code")
        _, code = latest_code(site.desk)
        await browser.post(f"/d/{token}/check", {"code": "000000" if code != "000000" else "1"})
        await browser.post(f"/d/{token}/check", {"code": code})
        await browser.post(f"/d/{token}/file", follow=False)
        await browser.get("/status")
        await browser.post("/status", {"reference": reference, "address": "jan.jansen@example.nl"})
        _, status_code = await site.code()
        await browser.post("/status/code", {"code": status_code})
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert reference in logged  # cases are named by reference ...
    for secret in (token, code, status_code, "jan.jansen", "Jan Jansen"):
        assert secret not in logged  # ... and nothing else

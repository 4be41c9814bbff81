"""The status page over real HTTP on loopback: reference and address, a code by mail, the state
in plain words, withdrawing through the one closing path (both databases)."""

from __future__ import annotations

import aiohttp
from sqlmodel import col, select

from bot.desk import Desk
from storage.models import AuditEvent, OutboxItem
from tests.factories import new_case
from tests.handlers.web.conftest import Browser
from tests.handlers.web.site import Clock, case_of, mails, running_site


async def _ask(browser: Browser, reference: str, address: str) -> aiohttp.ClientResponse:
    await browser.get("/status")
    return await browser.post("/status", {"reference": reference, "address": address})


async def test_the_requester_sees_the_state_and_withdraws(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    slack = Desk(
        settings=web_desk.settings.model_copy(
            update={"slack_bot_token": "xoxb-test", "slack_signing_secret": "s"}
        ),
        engine=web_desk.engine,
    )
    case = new_case(slack, requester="Jan.Jansen@Example.nl", language="en")
    async with running_site(slack, clock) as site:
        browser = Browser(http, site.url)
        response = await _ask(browser, case.reference.lower(), "jan.jansen@example.nl")
        assert response.status == 200 and str(response.url).endswith("/status/code")
        to, code = await site.code()
        assert to == "Jan.Jansen@Example.nl"
        response = await browser.post("/status/code", {"code": code})
        body = await response.text()
        assert str(response.url).endswith("/status/case")
        assert "We are waiting for you to confirm your identity" in body
        assert "Thursday 2 April 2026" in body  # the due date, Europe/Amsterdam
        assert "reply to our e-mail with the six-digit code" in body
        response = await browser.post("/status/withdraw", {})
        assert "First tick the box" in await response.text()
        assert case_of(site.desk, case.reference).state == "awaiting_identity"
        response = await browser.post("/status/withdraw", {"confirm": "yes"})
        body = await response.text()
        assert "Withdrawn" in body and "Nothing: your request is closed" in body
        assert "Withdraw the request" not in body
    assert case_of(site.desk, case.reference).state == "withdrawn"
    assert mails(site.desk, kind="outcome_withdrawn")[-1][0] == "Jan.Jansen@Example.nl"
    with site.desk.reading() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.reference == case.reference)
        ).all()
        updates = session.exec(
            select(OutboxItem).where(OutboxItem.kind == "case_updated").order_by(col(OutboxItem.id))
        ).all()
    closed = [e for e in events if e.action == "closed"]
    assert len(closed) == 1 and closed[0].actor == "requester (status page)"
    assert {"status_code_sent", "status_code_accepted", "status_viewed"} <= {
        e.action for e in events
    }
    assert updates, "the Slack message is updated"


async def test_five_wrong_codes_end_the_access(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    case = new_case(web_desk)
    async with running_site(web_desk, clock) as site:
        browser = Browser(http, site.url)
        await _ask(browser, case.reference, "jan.jansen@example.nl")
        _, code = await site.code()
        wrong = f"{(int(code) + 7) % 1_000_000:06d}"
        for attempt in range(1, 5):
            response = await browser.post("/status/code", {"code": wrong})
            assert f"nog {5 - attempt} keer" in await response.text()
        response = await browser.post("/status/code", {"code": wrong})
        assert "te vaak een verkeerde code" in await response.text()
        response = await browser.post("/status/code", {"code": code})
        assert response.status == 400
        status, body = await browser.get("/status/case")
        assert "De stand van uw verzoek" in body  # sent back to the start


async def test_a_code_expires(web_desk: Desk, clock: Clock, http: aiohttp.ClientSession) -> None:
    case = new_case(web_desk)
    async with running_site(web_desk, clock) as site:
        browser = Browser(http, site.url)
        await _ask(browser, case.reference, "jan.jansen@example.nl")
        _, code = await site.code()
        clock.advance(minutes=16)
        response = await browser.post("/status/code", {"code": code})
        assert "De code is verlopen" in await response.text()


async def test_the_open_page_ends_after_half_an_hour(
    web_desk: Desk, clock: Clock, http: aiohttp.ClientSession
) -> None:
    case = new_case(web_desk)
    async with running_site(web_desk, clock) as site:
        browser = Browser(http, site.url)
        await _ask(browser, case.reference, "jan.jansen@example.nl")
        _, code = await site.code()
        await browser.post("/status/code", {"code": code})
        status, body = await browser.get("/status/case")
        assert "In behandeling" in body or "Wij wachten" in body
        clock.advance(minutes=31)
        status, body = await browser.get("/status/case")
        assert "Stuur mij een code" in body

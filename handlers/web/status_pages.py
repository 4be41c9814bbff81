"""The status page: /status (reference and address), /status/code (the code from the mail),
/status/case (the state, the due date, what we wait for, and withdrawing). The answer to the
first form is the same whether or not the pair exists; the access lives in a cookie."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from multidict import MultiDictProxy

from bot import requester_status as status
from bot.web_access import CODE_MINUTES, CODES_PER_ADDRESS, SESSION_MINUTES, take
from bot.wording import long_date
from handlers.web.background import later
from handlers.web.context import CLOCK, DESK
from handlers.web.pages import language, page, see_other, set_cookie
from handlers.web.security import problem

logger = logging.getLogger("dsr.web")
ACCESS_COOKIE = "dsr_status"
MAX_FIELD = 320  # the longest mail address (RFC 5321 limits: 64 + 1 + 255)


def _field(form: MultiDictProxy[str | bytes | bytearray | web.FileField], name: str) -> str:
    """A text field, trimmed and cut to MAX_FIELD; a file sent in its place counts as empty."""
    value = form.get(name, "")
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


async def start_form(request: web.Request) -> web.Response:
    return page(request, "status_start", lang=language(request), here="/status", error=None)


async def start(request: web.Request) -> web.StreamResponse:
    lang = language(request)
    form = await request.post()
    reference, address = _field(form, "reference"), _field(form, "address")
    if not reference or "@" not in address:
        return page(request, "status_start", lang=lang, here="/status", error="missing", status=400)
    desk, now = request.app[DESK], request.app[CLOCK]()
    allowed = await asyncio.to_thread(take, desk, checks=[(CODES_PER_ADDRESS, address)], now=now)
    if not allowed:
        logger.warning("web: status code refused (rate limit per address)")
        return problem(request, "too_many", 429)
    token = await asyncio.to_thread(
        status.start, desk, reference=reference, address=address, now=now
    )
    later(request, status.mail_code, desk=desk, token=token, now=now)
    response = see_other("/status/code")
    set_cookie(
        response,
        request,
        ACCESS_COOKIE,
        token,
        path="/status",
        max_age=(CODE_MINUTES + SESSION_MINUTES) * 60,
    )
    raise response


async def code_form(request: web.Request) -> web.Response:
    if not request.cookies.get(ACCESS_COOKIE):
        raise see_other("/status")
    return page(
        request,
        "status_code",
        lang=language(request),
        here="/status/code",
        error=None,
        left=None,
        minutes=CODE_MINUTES,
    )


async def check(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(ACCESS_COOKIE, "")
    form = await request.post()
    desk, now = request.app[DESK], request.app[CLOCK]()
    outcome = await asyncio.to_thread(
        status.check, desk, token=token, code=_field(form, "code"), now=now
    )
    lang = language(request)
    if outcome == "ok":
        raise see_other("/status/case")
    if outcome in {"locked", "expired", "unknown"}:
        return page(request, "status_start", lang=lang, here="/status", error=outcome, status=400)
    left = await asyncio.to_thread(status.attempts_left, desk, token=token)
    return page(
        request,
        "status_code",
        lang=lang,
        here="/status/code",
        error="wrong",
        left=left,
        minutes=CODE_MINUTES,
        status=400,
    )


async def case_page(request: web.Request) -> web.Response:
    token = request.cookies.get(ACCESS_COOKIE, "")
    view = await asyncio.to_thread(
        status.view, request.app[DESK], token=token, now=request.app[CLOCK]()
    )
    if view is None:
        raise see_other("/status")
    lang = language(request, view.language)
    return page(
        request,
        "status_case",
        lang=lang,
        here="/status/case",
        view=view,
        due=long_date(view.due, lang),
        received=long_date(view.received_on, lang),
        error=request.query.get("error") == "confirm",
    )


async def withdraw(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(ACCESS_COOKIE, "")
    form = await request.post()
    if form.get("confirm") != "yes":
        raise see_other("/status/case?error=confirm")
    await asyncio.to_thread(
        status.withdraw, request.app[DESK], token=token, now=request.app[CLOCK]()
    )
    raise see_other("/status/case")


def register(app: web.Application) -> None:
    app.router.add_get("/status", start_form)
    app.router.add_post("/status", start)
    app.router.add_get("/status/code", code_form)
    app.router.add_post("/status/code", check)
    app.router.add_get("/status/case", case_page)
    app.router.add_post("/status/withdraw", withdraw)

"""The download link's pages: /d/TOKEN (ask for a code), /d/TOKEN/code (type it),
/d/TOKEN/file (download). The token is the only thing in the address."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web

from bot import download_files, downloads
from bot.downloads import UNKNOWN, LinkView, PackageUnavailable
from bot.web_access import CODE_MINUTES, SESSION_MINUTES
from bot.wording import long_date
from handlers.web.context import CLOCK, DESK, PACKAGER, SETTINGS
from handlers.web.pages import language, page, see_other, set_cookie
from handlers.web.security import problem

logger = logging.getLogger("dsr.web")
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
SESSION_COOKIE = "dsr_download"


def _token(request: web.Request) -> str | None:
    token = request.match_info["token"]
    return token if TOKEN.fullmatch(token) else None


def _base(token: str) -> str:
    return f"/d/{token}"


async def _view(request: web.Request, token: str | None) -> LinkView:
    if token is None:
        return UNKNOWN
    return await asyncio.to_thread(
        downloads.view_link,
        request.app[DESK],
        token=token,
        session_token=request.cookies.get(SESSION_COOKIE),
        now=request.app[CLOCK](),
    )


def _render(
    request: web.Request, name: str, view: LinkView, token: str, here: str, **extra: Any
) -> web.Response:
    lang = language(request, view.language)
    if not view.usable:
        return page(request, "link_gone", lang=lang, here=here, status=410, reason=view.state)
    expires = ""
    if view.expires_at is not None:
        local = view.expires_at.astimezone(request.app[SETTINGS].tz)
        expires = f"{long_date(local.date(), lang)}, {local:%H:%M}"
    return page(
        request,
        name,
        lang=lang,
        here=here,
        base=_base(token),
        view=view,
        expires=expires,
        left=view.max_downloads - view.downloads,
        minutes=CODE_MINUTES,
        **extra,
    )


async def start(request: web.Request) -> web.Response:
    token = _token(request)
    view = await _view(request, token)
    if token is None or not view.usable:
        lang = language(request, view.language)
        return page(
            request,
            "link_gone",
            lang=lang,
            here=request.path,
            status=410 if token else 404,
            reason=view.state,
        )
    return _render(request, "download_start", view, token, request.path)


async def send_code(request: web.Request) -> web.StreamResponse:
    token = _token(request)
    if token is None:
        return await start(request)
    view = await asyncio.to_thread(
        downloads.send_code, request.app[DESK], token=token, now=request.app[CLOCK]()
    )
    if not view.usable:
        return _render(request, "link_gone", view, token, _base(token))
    raise see_other(f"{_base(token)}/code")


async def code_form(request: web.Request) -> web.Response:
    token = _token(request)
    view = await _view(request, token)
    if token is None or not view.usable:
        return await start(request)
    return _render(request, "download_code", view, token, request.path, error=None)


async def check_code(request: web.Request) -> web.StreamResponse:
    token = _token(request)
    if token is None:
        return await start(request)
    form = await request.post()
    field = form.get("code", "")
    typed = field[:32] if isinstance(field, str) else ""
    view, session_token = await asyncio.to_thread(
        downloads.check_code, request.app[DESK], token=token, code=typed, now=request.app[CLOCK]()
    )
    if session_token is None:
        error = "wrong" if view.code_pending else "expired"
        return _render(request, "download_code", view, token, f"{_base(token)}/code", error=error)
    response = see_other(f"{_base(token)}/file")
    set_cookie(
        response,
        request,
        SESSION_COOKIE,
        session_token,
        path=_base(token),
        max_age=SESSION_MINUTES * 60,
    )
    raise response


async def ready(request: web.Request) -> web.Response:
    token = _token(request)
    view = await _view(request, token)
    if token is None or not view.usable:
        return await start(request)
    if not view.opened:
        raise see_other(_base(token))
    return _render(request, "download_ready", view, token, request.path)


async def fetch(request: web.Request) -> web.StreamResponse:
    token = _token(request)
    if token is None:
        return await start(request)
    try:
        view, data = await asyncio.to_thread(
            download_files.download,
            request.app[DESK],
            token=token,
            session_token=request.cookies.get(SESSION_COOKIE),
            now=request.app[CLOCK](),
            packager=request.app[PACKAGER],
        )
    except PackageUnavailable:
        logger.exception("web: the package could not be built for a download")
        return problem(request, "unavailable", 503)
    if data is None:
        if not view.usable:
            return _render(request, "link_gone", view, token, _base(token))
        raise see_other(_base(token))
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{view.reference}.zip"'},
    )


def register(app: web.Application) -> None:
    app.router.add_get("/d/{token}", start)
    app.router.add_post("/d/{token}/code", send_code)
    app.router.add_get("/d/{token}/code", code_form)
    app.router.add_post("/d/{token}/check", check_code)
    app.router.add_get("/d/{token}/file", ready)
    app.router.add_post("/d/{token}/file", fetch)

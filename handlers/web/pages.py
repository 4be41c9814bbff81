"""Rendering the web front's pages (templates/web/<lang>/<page>.html) and its cookies.

Every page carries the form token (CSRF, double-submit: the same random value in a cookie and
in each form), the language switch and the security headers (handlers/web/security.py).
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.templates import TEMPLATES
from handlers.web.context import SETTINGS

LANGUAGES = ("nl", "en")
CSRF_COOKIE, LANG_COOKIE = "dsr_csrf", "dsr_lang"
CSRF_FIELD = "csrf"


@functools.cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES / "web")),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def secure(request: web.Request) -> bool:
    return request.app[SETTINGS].public_url.startswith("https://")


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    *,
    path: str = "/",
    max_age: int | None = None,
    samesite: str = "Strict",
) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max_age,
        httponly=True,
        secure=secure(request),
        samesite=samesite,
    )


def language(request: web.Request, default: str | None = None) -> str:
    """`?lang=` (the switch), then the cookie it leaves, then the case's language, then the
    browser's first choice of ours, then Dutch."""
    for wanted in (request.query.get("lang"), request.cookies.get(LANG_COOKIE), default):
        if wanted in LANGUAGES:
            return str(wanted)
    accept = request.headers.get("Accept-Language", "").lower()
    return "en" if accept.startswith("en") else "nl"


def csrf_token(request: web.Request) -> tuple[str, bool]:
    """The browser's form token, or a new one (True: the response must set the cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) == 43 and token.replace("-", "").replace("_", "").isalnum():
        return token, False
    return secrets.token_urlsafe(32), True


def page(
    request: web.Request,
    name: str,
    *,
    lang: str,
    here: str,
    status: int = 200,
    **context: Any,
) -> web.Response:
    """Render `<lang>/<name>.html`; `here` is the page's own address (for the language
    switch), without personal data: at most a download link's token."""
    token, new = csrf_token(request)
    html = (
        environment()
        .get_template(f"{lang}/{name}.html")
        .render(
            lang=lang,
            other=("en" if lang == "nl" else "nl"),
            here=here,
            csrf=token,
            csrf_field=CSRF_FIELD,
            **context,
        )
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    if new:
        set_cookie(response, request, CSRF_COOKIE, token)
    if request.query.get("lang") in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def see_other(location: str) -> web.HTTPSeeOther:
    """Post/redirect/get: a form's answer is a page the browser can reload safely."""
    return web.HTTPSeeOther(location)

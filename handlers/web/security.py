"""The web front's guards, in one place rather than in every handler: security headers on
every response, the form token (CSRF) and origin check on every POST, and the rate limit
per IP address on every POST (counted in the database: instances agree)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from bot.web_access import POSTS_PER_IP, take
from handlers.web.context import CLOCK, DESK, SETTINGS
from handlers.web.pages import CSRF_COOKIE, CSRF_FIELD, language, page

logger = logging.getLogger("dsr.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
STATIC_PREFIX = "/static/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, error pages and files included."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.path.startswith(STATIC_PREFIX):
        response.headers["Cache-Control"] = "public, max-age=3600"
    else:
        response.headers["Cache-Control"] = "no-store"
    if request.app[SETTINGS].public_url.startswith("https://"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


def client_ip(request: web.Request) -> str:
    """The address the per-IP limit counts: the peer's, or behind a proxy named in
    DSR_WEB_TRUSTED_PROXIES the one that proxy put last into X-Forwarded-For. An IPv6 address
    counts by its /64, the block one subscriber gets, so that walking through it gains
    nothing."""
    peer = request.remote or ""
    trusted = {p.strip() for p in request.app[SETTINGS].web_trusted_proxies.split(",") if p}
    forwarded = request.headers.get("X-Forwarded-For", "")
    address = forwarded.split(",")[-1].strip() if peer in trusted and forwarded else peer
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _origin_ok(request: web.Request) -> bool:
    """A browser says where a form came from: Sec-Fetch-Site (the fetch metadata), and Origin
    (`null` under our no-referrer policy). Either, when given, must say: from our own pages."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    ours = urlsplit(request.app[SETTINGS].public_url)
    return origin in {f"{ours.scheme}://{ours.netloc}", f"{request.scheme}://{request.host}"}


def problem(request: web.Request, kind: str, status: int) -> web.Response:
    return page(
        request, "problem", lang=language(request), here="/status", status=status, kind=kind
    )


@web.middleware
async def guard_posts(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every POST: the form token must equal the cookie's, the origin must be ours, and the
    sender's IP address must be within its limit; anything else is refused before any work."""
    if request.method != "POST":
        return await handler(request)
    form = await request.post()
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if not (cookie and isinstance(sent, str) and secrets.compare_digest(cookie, sent)):
        logger.warning("web: form refused (form token missing or wrong)")
        return problem(request, "forbidden", 403)
    if not _origin_ok(request):
        logger.warning("web: form refused (from another origin)")
        return problem(request, "forbidden", 403)
    desk, now = request.app[DESK], request.app[CLOCK]()
    allowed = await asyncio.to_thread(
        take, desk, checks=[(POSTS_PER_IP, client_ip(request))], now=now
    )
    if not allowed:
        logger.warning("web: form refused (rate limit per IP address)")
        return problem(request, "too_many", 429)
    return await handler(request)

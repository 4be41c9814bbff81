"""The requester's web front (DSR_WEB_LISTEN, DSR_PUBLIC_URL): the download link's pages and
the status page, served by aiohttp in `dsr serve`'s event loop. No request is logged: the
address of a download page holds its token."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.desk import Desk
from bot.downloads import Packager, PackageUnavailable
from bot.templates import TEMPLATES
from handlers.service import Skipped, Subsystem
from handlers.web import background, download_pages, status_pages
from handlers.web.context import CLOCK, DESK, PACKAGER, SETTINGS
from handlers.web.pages import language, page
from handlers.web.security import STATIC_PREFIX, Handler, add_headers, guard_posts

logger = logging.getLogger("dsr.web")

MAX_BODY_BYTES = 16_384  # the forms hold a few short fields


def build_app(desk: Desk, *, clock: Callable[[], datetime], packager: Packager) -> web.Application:
    app = web.Application(middlewares=[guard_posts], client_max_size=MAX_BODY_BYTES)
    app[DESK], app[SETTINGS], app[CLOCK], app[PACKAGER] = desk, desk.settings, clock, packager
    app.on_response_prepare.append(add_headers)
    background.setup(app)
    app.router.add_get("/", _home)
    download_pages.register(app)
    status_pages.register(app)
    app.router.add_static(STATIC_PREFIX, TEMPLATES / "web" / "static", follow_symlinks=False)
    app.middlewares.append(_problems)
    return app


async def _home(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/status")


@web.middleware
async def _problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A missing page, and an unexpected failure: the requester gets a page in their language,
    and the log gets the route and the kind of error only. aiohttp's own report would name the
    requester's IP address and the path, which holds a download token."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return page(
            request, "problem", lang=language(request), here="/status", status=404, kind="not_found"
        )
    except web.HTTPException:
        raise
    except Exception as exc:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "?"
        logger.error("web: %s %s failed (%s)", request.method, name, type(exc).__name__)
        return page(
            request,
            "problem",
            lang=language(request),
            here="/status",
            status=500,
            kind="unavailable",
        )


def package_builder(desk: Desk, reference: str, *, now: datetime) -> bytes:
    """The answer package (bot/package.py), its refusal turned into the web front's."""
    from bot.package import PackageError, build_package

    try:
        return build_package(desk, reference, now=now)
    except PackageError as exc:
        raise PackageUnavailable(str(exc)) from exc


async def start_web(
    desk: Desk, *, clock: Callable[[], datetime], packager: Packager, host: str, port: int
) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (to clean up) and the port actually bound."""
    runner = web.AppRunner(build_app(desk, clock=clock, packager=packager), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host=host, port=port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)


def web_front(desk: Desk, *, clock: Callable[[], datetime]) -> Subsystem | Skipped:
    settings = desk.settings
    if not settings.public_url:
        return Skipped("web", "no DSR_PUBLIC_URL")
    if not settings.web_listen:
        return Skipped("web", "DSR_WEB_LISTEN is empty")
    host, _, port = settings.web_listen.rpartition(":")

    async def run(stop: asyncio.Event) -> None:
        runner, _ = await start_web(
            desk, clock=clock, packager=package_builder, host=host.strip("[]"), port=int(port)
        )
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    return Subsystem("web", run)

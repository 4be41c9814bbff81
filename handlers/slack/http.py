"""HTTP mode: Slack posts to `/slack/events`; Bolt checks the signature (v0, 5-minute
timestamp window) and dispatches. Served by aiohttp in the service's event loop."""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000


def build_web_app(bolt: AsyncApp) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app.router.add_post(EVENTS_PATH, events)
    return web_app


async def start_http(bolt: AsyncApp, *, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (to clean up) and the port actually bound."""
    runner = web.AppRunner(build_web_app(bolt), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host=host, port=port)
    await site.start()
    server = site._server  # aiohttp exposes the bound port only here
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound


async def serve_http(bolt: AsyncApp, *, listen: str, stop: asyncio.Event) -> None:
    host, _, port = listen.rpartition(":")
    runner, _bound = await start_http(bolt, host=host.strip("[]"), port=int(port))
    try:
        await stop.wait()
    finally:
        await runner.cleanup()

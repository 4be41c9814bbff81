"""HTTP mode: Slack posts to `/slack/events`; Bolt checks the signature (v0, 5-minute
timestamp window) and dispatches. Served by aiohttp in the service's event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

logger = logging.getLogger("dsr.slack.http")
EVENTS_PATH = "/slack/events"
# What Bolt raises on a body of the wrong shape (not JSON, a list, a missing key).
MALFORMED = (ValueError, KeyError, IndexError, AttributeError, TypeError)
MAX_BODY_BYTES = 1_000_000


def _has_id(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str)


def well_formed(body: Any) -> bool:
    """The fields Bolt's matchers read without checking, for the kinds we listen to."""
    if not isinstance(body, dict):
        return False
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            _has_id(body.get("user"))
            and isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    if kind == "view_submission":
        view = body.get("view")
        return (
            _has_id(body.get("user"))
            and isinstance(view, dict)
            and isinstance(view.get("state"), dict)
            and isinstance(view["state"].get("values"), dict)
        )
    if kind == "event_callback":
        return isinstance(body.get("event"), dict)
    return True


def build_web_app(bolt: AsyncApp) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
            if not well_formed(bolt_request.body):
                raise ValueError("payload of the wrong shape")
            response = await bolt.async_dispatch(bolt_request)
        except MALFORMED as exc:
            logger.warning("slack: malformed request (%s); answered 400", type(exc).__name__)
            return web.Response(status=400, text="malformed request")
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

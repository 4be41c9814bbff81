"""The monitoring listener of `dsr serve` on DSR_HTTP_LISTEN: `/healthz`, `/readyz` and
`/metrics`. It is separate from the requester-facing web front (DSR_WEB_LISTEN) so that the
figures stay on loopback (or a private network) while the web front faces the internet."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from bot.desk import Desk
from handlers.health.metrics import registry_for
from handlers.health.readiness import readiness
from handlers.runtime import utcnow
from handlers.service import Subsystem

logger = logging.getLogger("dsr.health")


def build_app(desk: Desk, *, clock: Callable[[], datetime] = utcnow) -> web.Application:
    registry = registry_for(desk, clock=clock)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def readyz(_request: web.Request) -> web.Response:
        checks = await asyncio.to_thread(readiness, desk, now=clock())
        failing = [c.name for c in checks if not c.ok]
        body = {
            "ready": not failing,
            "failing": failing,
            "checks": [c.as_dict() for c in checks],
        }
        return web.json_response(body, status=503 if failing else 200)

    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        payload = await asyncio.to_thread(encoder, registry)
        return web.Response(body=payload, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health(
    desk: Desk, *, host: str, port: int, clock: Callable[[], datetime] = utcnow
) -> web.AppRunner:
    runner = web.AppRunner(build_app(desk, clock=clock), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host=host, port=port).start()
    logger.info("health: /healthz /readyz /metrics on %s", bound_address(runner))
    return runner


def bound_address(runner: web.AppRunner) -> str:
    """HOST:PORT the listener took (port 0 picks a free one)."""
    host, port = runner.addresses[0][:2]
    return f"{host}:{port}"


def health_server(desk: Desk, *, clock: Callable[[], datetime] = utcnow) -> Subsystem:
    """`Subsystem("health")` on DSR_HTTP_LISTEN."""
    host, _, port = desk.settings.http_listen.rpartition(":")

    async def run(stop: asyncio.Event) -> None:
        # Mail intake must not stop because the monitoring port is taken: the log says so.
        try:
            runner = await start_health(desk, host=host.strip("[]"), port=int(port), clock=clock)
        except OSError as exc:
            logger.error(
                "health: cannot listen on %s (%s); running without /healthz, /readyz and "
                "/metrics: set DSR_HTTP_LISTEN to a free address",
                desk.settings.http_listen,
                exc.strerror or type(exc).__name__,
            )
            desk.monitor.trouble("health", "cannot listen on DSR_HTTP_LISTEN")
            await stop.wait()
            return
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    return Subsystem("health", run)

"""`dsr serve` runs the web front only when DSR_PUBLIC_URL is set, and stops it cleanly."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.desk import Desk
from handlers.service import Skipped, Subsystem
from handlers.web.app import package_builder, start_web, web_front
from handlers.wiring import plan_for
from tests.handlers.web.site import Clock


def test_off_without_a_public_url(desk: Desk, clock: Clock) -> None:
    part = web_front(desk, clock=clock)
    assert isinstance(part, Skipped) and "DSR_PUBLIC_URL" in part.why
    assert any(getattr(p, "name", "") == "web" for p in plan_for(desk))


async def test_on_with_a_public_url_and_stops_when_told(web_desk: Desk, clock: Clock) -> None:
    settings = web_desk.settings.model_copy(
        update={"public_url": "https://desk.example.nl", "web_listen": "127.0.0.1:0"}
    )
    part = web_front(Desk(settings=settings, engine=web_desk.engine), clock=clock)
    assert isinstance(part, Subsystem) and part.name == "web"
    stop = asyncio.Event()
    task = asyncio.create_task(part.run(stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, timeout=5)


async def test_start_web_binds_and_serves(web_desk: Desk, clock: Clock) -> None:
    runner, port = await start_web(
        web_desk, clock=clock, packager=package_builder, host="127.0.0.1", port=0
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 200 and str(response.url).endswith("/status")
                assert response.headers["X-Frame-Options"] == "DENY"
    finally:
        await runner.cleanup()

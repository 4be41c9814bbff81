"""The Socket Mode connection as the part `slack_socket` of `/readyz` and `/metrics`, against
the local stand-in of Slack's socket: ready while connected and through a cut shorter than the
grace period, not ready (naming the part) after a longer one, ready again once back; reported
only in Socket Mode. Time on the monitor's clock moves by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.desk import Desk
from bot.monitor import Monitor
from handlers.slack.app import build_app, build_deps, run_slack
from handlers.slack.socket import DOWN_GRACE_SECONDS, PART, serve_socket
from tests.factories import make_settings
from tests.handlers.slack.harness import CHANNEL, SECRET, Clock, open_case_as_intake
from tests.handlers.slack.socket_server import SocketStandIn
from tests.handlers.test_health import Health, samples, serving
from tests.slack_stub import SlackStub

PING_SECONDS = 1.0  # the client's wait between connect attempts, kept short for the test
UP = ("dsr_part_up", (("part", PART),))
RECONNECTS = ("dsr_slack_socket_reconnects_total", ())


class Watched(Monitor):
    """A monitor on a hand-moved clock that lets a test wait for the socket's last report."""

    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(monotonic=lambda: self.now)
        self.connected: bool | None = None
        self._changed = asyncio.Event()

    def trouble(self, part: str, what: str, *, grace: float = 0.0) -> None:
        super().trouble(part, what, grace=grace)
        self._seen(part, connected=False)

    def recovered(self, part: str) -> None:
        super().recovered(part)
        self._seen(part, connected=True)

    def _seen(self, part: str, *, connected: bool) -> None:
        if part == PART:
            self.connected = connected
            self._changed.set()

    async def until(self, check: Callable[[], bool], timeout: float = 15) -> None:
        async def changes() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(changes(), timeout)


@dataclass
class Linked:
    monitor: Watched
    socket: SocketStandIn
    health: Health

    async def ready(self) -> tuple[int, Any, dict[Any, float]]:
        status, body = await self.health.get("/readyz")
        return status, body, samples((await self.health.get("/metrics"))[1])


def socket_desk(engine: Engine, db_url: str, tmp_path: object, stub: SlackStub) -> Desk:
    settings = make_settings(
        db_url,
        tmp_path,
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test",
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
    )
    return Desk(settings=settings, engine=engine, monitor=Watched())


@pytest.fixture
async def linked(
    engine: Engine, db_url: str, tmp_path: object, stub: SlackStub, clock: Clock
) -> AsyncIterator[Linked]:
    """`serve_socket` connected to the stand-in, and the health listener beside it."""
    desk = socket_desk(engine, db_url, tmp_path, stub)
    assert isinstance(desk.monitor, Watched)
    socket = SocketStandIn()
    await socket.start()
    stub.socket_url = socket.url
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_socket(
            build_app(build_deps(desk, clock=clock)),
            app_token="xapp-test",
            stop=stop,
            monitor=desk.monitor,
            ping_interval=PING_SECONDS,
        )
    )
    try:
        await desk.monitor.until(lambda: desk.monitor.connected is True)
        async for health in serving(desk, clock):
            yield Linked(monitor=desk.monitor, socket=socket, health=health)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await socket.stop()


async def test_a_cut_longer_than_the_grace_period_makes_the_desk_unready_until_it_is_back(
    linked: Linked,
) -> None:
    monitor, socket = linked.monitor, linked.socket
    status, body, found = await linked.ready()
    assert status == 200 and {"name": PART, "ok": True, "detail": ""} in body["checks"]
    assert found[UP] == 1 and found[RECONNECTS] == 0

    await socket.go_away()
    await monitor.until(lambda: monitor.connected is False)
    await socket.wait_for(lambda s: s.refused >= 1)  # the client tries again, and is refused
    monitor.now += DOWN_GRACE_SECONDS
    status, body, found = await linked.ready()
    assert status == 503 and body["failing"] == [PART], body
    detail = next(c["detail"] for c in body["checks"] if c["name"] == PART)
    assert "SLACK_APP_TOKEN" in detail and "xapp" not in str(body)
    assert found[UP] == 0

    socket.come_back()
    await monitor.until(lambda: monitor.connected is True)
    status, body, found = await linked.ready()
    assert status == 200 and body["failing"] == []
    assert found[UP] == 1 and found[RECONNECTS] == 1 and socket.connections == 2


async def test_a_cut_shorter_than_the_grace_period_keeps_the_desk_ready(linked: Linked) -> None:
    monitor, socket = linked.monitor, linked.socket
    await socket.go_away()
    await monitor.until(lambda: monitor.connected is False)
    monitor.now += DOWN_GRACE_SECONDS - 1
    status, body, found = await linked.ready()
    assert status == 200 and found[UP] == 1, body

    socket.come_back()
    await monitor.until(lambda: monitor.connected is True)
    monitor.now += DOWN_GRACE_SECONDS * 2  # the cut's wait ended with the reconnect
    status, body, found = await linked.ready()
    assert status == 200 and found[UP] == 1, body
    assert found[RECONNECTS] == 1


async def test_a_revoked_app_token_makes_the_desk_unready_after_the_grace_period(
    engine: Engine, db_url: str, tmp_path: object, stub: SlackStub, clock: Clock
) -> None:
    stub.errors["apps.connections.open"] = "invalid_auth"
    desk = socket_desk(engine, db_url, tmp_path, stub)
    assert isinstance(desk.monitor, Watched)
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_socket(
            build_app(build_deps(desk, clock=clock)),
            app_token="xapp-test",
            stop=stop,
            monitor=desk.monitor,
            ping_interval=PING_SECONDS,
        )
    )
    try:
        await stub.wait_for(lambda s: bool(s.ok_calls("apps.connections.open")), timeout=10)
        async for health in serving(desk, clock):
            assert (await health.get("/readyz"))[0] == 200  # still within the grace period
            desk.monitor.now += DOWN_GRACE_SECONDS
            status, body = await health.get("/readyz")
            assert status == 503 and body["failing"] == [PART], body
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


@pytest.mark.parametrize("socket_mode", [True, False], ids=["socket", "http"])
async def test_run_slack_reports_the_socket_only_in_socket_mode(
    engine: Engine, db_url: str, tmp_path: object, stub: SlackStub, clock: Clock, socket_mode: bool
) -> None:
    settings = make_settings(
        db_url,
        tmp_path,
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test" if socket_mode else "",
        slack_signing_secret="" if socket_mode else SECRET,
        slack_http_listen="127.0.0.1:0",
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
    )
    desk = Desk(settings=settings, engine=engine, monitor=Watched())
    socket = SocketStandIn()
    await socket.start()
    stub.socket_url = socket.url
    stop = asyncio.Event()
    task = asyncio.create_task(run_slack(desk, stop, clock=clock))
    try:
        open_case_as_intake(desk)  # its post shows that run_slack runs
        await stub.wait_for(lambda s: len(s.messages()) == 1, timeout=10)
        if socket_mode:
            await socket.wait_for(lambda s: s.connections == 1)
            await desk.monitor.until(lambda: desk.monitor.parts()[PART].healthy)
        async for health in serving(desk, clock):
            status, body = await health.get("/readyz")
            metrics = (await health.get("/metrics"))[1]
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await socket.stop()
    assert status == 200, body
    names = {c["name"] for c in body["checks"]}
    found = samples(metrics)
    if socket_mode:
        assert PART in names and found[UP] == 1 and found[RECONNECTS] == 0
    else:
        assert names == {"database", "outbox-age"} and socket.connections == 0
        assert UP not in found and RECONNECTS not in found

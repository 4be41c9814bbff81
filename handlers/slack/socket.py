"""Socket Mode: a WebSocket to Slack opened with the app token (no public endpoint).

The connection is the part `slack_socket` of the monitor: ready while connected, and still
ready during a cut shorter than `DOWN_GRACE_SECONDS` (the client reconnects by itself). Slack
says `hello` on every new connection; each one after the first counts as a reconnect."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

from bot.monitor import Monitor

PART = "slack_socket"
RECONNECTS = "dsr_slack_socket_reconnects"
DOWN_GRACE_SECONDS = 30.0  # a cut this short is a reconnect, not an outage
CHECK_SECONDS = 1.0  # how often the connection's state is read (no I/O)
PING_INTERVAL_SECONDS = 10.0  # Bolt's default: pings, and the wait between connect attempts
DOWN = (
    f"no Socket Mode connection to Slack for {DOWN_GRACE_SECONDS:.0f} s or more; check "
    "SLACK_APP_TOKEN, the network and the log"
)


class Link:
    """Tells the monitor whether the socket is up and counts reconnects."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor, self.hellos = monitor, 0

    def report(self, *, connected: bool) -> None:
        if connected:
            self.monitor.recovered(PART)
        else:
            self.monitor.trouble(PART, DOWN, grace=DOWN_GRACE_SECONDS)

    async def heard(
        self, _client: AsyncBaseSocketModeClient, message: dict[str, Any], _raw: str | None
    ) -> None:
        if message.get("type") == "hello":
            if self.hellos:
                self.monitor.count(RECONNECTS)
            self.hellos += 1
            self.report(connected=True)


async def serve_socket(
    bolt: AsyncApp,
    *,
    app_token: str,
    stop: asyncio.Event,
    monitor: Monitor,
    ping_interval: float = PING_INTERVAL_SECONDS,
) -> None:
    handler = AsyncSocketModeHandler(
        bolt, app_token=app_token, web_client=bolt.client, ping_interval=ping_interval
    )
    link = Link(monitor)
    handler.client.message_listeners.append(link.heard)
    monitor.started(PART)
    monitor.count(RECONNECTS, 0)  # the series exists from the start
    link.report(connected=False)  # until Slack says hello
    # The client retries a failed connect until it is closed: run it beside the watch.
    connecting = asyncio.create_task(handler.connect_async())  # type: ignore[no-untyped-call]
    try:
        while not stop.is_set():
            link.report(connected=await handler.client.is_connected())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=CHECK_SECONDS)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
        monitor.stopped(PART)

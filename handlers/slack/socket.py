"""Socket Mode: a WebSocket to Slack opened with the app token (no public endpoint)."""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp


async def serve_socket(bolt: AsyncApp, *, app_token: str, stop: asyncio.Event) -> None:
    handler = AsyncSocketModeHandler(bolt, app_token=app_token, web_client=bolt.client)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

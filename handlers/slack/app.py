"""Building the Slack side, in one place and only when `dsr serve` runs it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.desk import Desk
from bot.settings import Settings
from handlers.slack import actions, commands, events, views
from handlers.slack.delivery import SlackDelivery
from handlers.slack.deps import SlackDeps
from handlers.slack.http import serve_http
from handlers.slack.members import Membership, member_fetcher
from handlers.slack.retry import retry_handlers
from handlers.slack.socket import serve_socket

logger = logging.getLogger("dsr.slack")
API_TIMEOUT_SECONDS = 10


def build_client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=API_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )


def build_deps(desk: Desk, *, clock: Callable[[], datetime]) -> SlackDeps:
    settings = desk.settings
    client = build_client(settings)
    fetch = member_fetcher(
        client, usergroup=settings.slack_allowed_usergroup, channel=settings.slack_channel
    )
    return SlackDeps(
        desk=desk,
        client=client,
        members=Membership(fetch=fetch),
        clock=clock,
        channel=settings.slack_channel,
        show_body=settings.slack_show_body,
    )


def build_app(deps: SlackDeps) -> AsyncApp:
    settings = deps.desk.settings
    socket_mode = bool(settings.slack_app_token)
    bolt = AsyncApp(
        client=deps.client,
        signing_secret=settings.slack_signing_secret.get_secret_value() or None,
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger("dsr.slack.bolt"),
    )
    for folder in (commands, actions, views, events):
        folder.register(bolt, deps)
    return bolt


async def run_slack(desk: Desk, stop: asyncio.Event, *, clock: Callable[[], datetime]) -> None:
    """The listener (Socket Mode or HTTP) and the outbox worker, until `stop`."""
    settings = desk.settings
    deps = build_deps(desk, clock=clock)
    bolt = build_app(deps)
    if not (settings.slack_channel or settings.slack_allowed_usergroup):
        logger.warning("slack: no DSR_SLACK_CHANNEL or DSR_SLACK_ALLOWED_USERGROUP; nobody may act")
    if settings.slack_app_token:
        listener = serve_socket(
            bolt,
            app_token=settings.slack_app_token.get_secret_value(),
            stop=stop,
            monitor=desk.monitor,
        )
    else:
        listener = serve_http(bolt, listen=settings.slack_http_listen, stop=stop)
    async with asyncio.TaskGroup() as group:
        group.create_task(listener, name="slack-listener")
        group.create_task(SlackDelivery(deps).run(stop), name="slack-delivery")

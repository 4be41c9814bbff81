"""Events API listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.events import app_home_opened, file_share, other_messages


def register(app: AsyncApp, deps: SlackDeps) -> None:
    app_home_opened.register(app, deps)
    file_share.register(app, deps)
    # Keep last: it answers every message event no listener above took.
    other_messages.register(app, deps)

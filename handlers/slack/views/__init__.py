"""Modal submissions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.views import close_submit, extend_submit, verify_submit


def register(app: AsyncApp, deps: SlackDeps) -> None:
    for module in (verify_submit, extend_submit, close_submit):
        module.register(app, deps)

"""Slash commands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.commands import dsr
from handlers.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> None:
    dsr.register(app, deps)

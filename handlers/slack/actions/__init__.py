"""Buttons and selects on the case and review-item messages."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.actions import (
    assign_me,
    breach_buttons,
    change_kind,
    close,
    extend,
    package,
    review_dismiss,
    review_open,
    task_result,
    verify,
)
from handlers.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> None:
    for module in (assign_me, change_kind, verify, extend, close, review_open, review_dismiss):
        module.register(app, deps)
    package.register(app, deps)
    task_result.register(app, deps)
    breach_buttons.register(app, deps)

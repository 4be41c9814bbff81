"""Modal submissions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.slack.deps import SlackDeps
from handlers.slack.views import (
    breach_decide_submit,
    breach_submit,
    close_submit,
    extend_submit,
    review_dismiss_submit,
    review_open_submit,
    verify_submit,
)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    modules = (
        verify_submit,
        extend_submit,
        close_submit,
        review_open_submit,
        review_dismiss_submit,
        breach_submit,
        breach_decide_submit,
    )
    for module in modules:
        module.register(app, deps)

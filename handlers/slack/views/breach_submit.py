"""The `/dsr datalek` form submitted: a breach reported by phone is recorded."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.breaches import BreachRefused, report_breach
from handlers.slack.breach_blocks import MODAL_BREACH_NEW, breach_items, recorded_text
from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, actor_of, admit, user_of
from handlers.slack.texts import NOT_AUTHORISED
from handlers.slack.views.common import form, missing, tell

logger = logging.getLogger("dsr.slack.views")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_BREACH_NEW)
    async def breach_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        values = form(body)
        errors = missing(values, "reporter", "nature")
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user, channel = user_of(body), values.get("meta.channel", deps.channel)
        verdict = await admit(deps, body, what="datalek")
        if verdict is Verdict.REFUSED:
            await tell(deps, channel=channel, user=user, text=NOT_AUTHORISED)
        if verdict is not Verdict.ACT:
            return
        try:
            reference = await deps.db(
                report_breach,
                deps.desk,
                reporter=values["reporter"],
                reporter_name="",
                items=breach_items(values),
                language="nl",
                aware_at=None,
                reason=None,
                actor=actor_of(user),
                now=deps.clock(),
            )
        except BreachRefused as exc:
            await tell(deps, channel=channel, user=user, text=str(exc))
            return
        deps.poke()
        logger.info("slack: breach=%s recorded from the form", reference)
        await tell(deps, channel=channel, user=user, text=recorded_text(reference))

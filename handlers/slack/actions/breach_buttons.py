"""Buttons on a breach's message: send the drafted question to the reporter (the button's
confirm dialog is the person's confirmation), and open the decision form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import breaches as core
from bot.breach_mail import send_request
from handlers.slack.actions.common import channel_of, whisper
from handlers.slack.breach_blocks import (
    ACTION_BREACH_ASK,
    ACTION_BREACH_DECIDE,
    build_decide_modal,
)
from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, actor_of, admit, user_of
from handlers.slack.texts import NOT_AUTHORISED


def _reference(body: dict[str, Any]) -> str:
    return str((body.get("actions") or [{}])[0].get("value") or "")


async def _admitted(deps: SlackDeps, body: dict[str, Any], respond: AsyncRespond) -> bool:
    verdict = await admit(deps, body, what=f"breach {_reference(body)}")
    if verdict is Verdict.REFUSED:
        await whisper(respond, NOT_AUTHORISED)
    return verdict is Verdict.ACT


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_BREACH_ASK)
    async def ask_reporter(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        if not await _admitted(deps, body, respond):
            return
        reference = _reference(body)
        try:
            draft = await deps.db(
                send_request,
                deps.desk,
                reference=reference,
                actor=actor_of(user_of(body)),
                now=deps.clock(),
            )
        except (core.UnknownBreach, core.BreachRefused) as exc:
            await whisper(respond, str(exc))
            return
        await whisper(
            respond,
            f"{reference}: de vraag naar {len(draft.items)} ontbrekende punten is verstuurd. / "
            "The question was sent.",
        )

    @app.action(ACTION_BREACH_DECIDE)
    async def open_decision(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        if not await _admitted(deps, body, respond):
            return
        modal = build_decide_modal(_reference(body), channel=channel_of(body, deps))
        await deps.client.views_open(trigger_id=body["trigger_id"], view=modal)

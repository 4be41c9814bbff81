"""A breach's decision form submitted: the decision is recorded (the same core function as
`dsr breaches decide`)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import breaches as core
from handlers.slack.breach_blocks import MODAL_BREACH_DECIDE
from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, actor_of, admit, user_of
from handlers.slack.texts import NOT_AUTHORISED
from handlers.slack.views.common import form, missing, tell


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(MODAL_BREACH_DECIDE)
    async def decision_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        values = form(body)
        errors = missing(values, "ap", "subjects", "reasons")
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        reference = values.get("meta.reference", "")
        user, channel = user_of(body), values.get("meta.channel", deps.channel)
        verdict = await admit(deps, body, what=f"breach decide {reference}")
        if verdict is Verdict.REFUSED:
            await tell(deps, channel=channel, user=user, text=NOT_AUTHORISED)
        if verdict is not Verdict.ACT:
            return
        decision = core.Decision(
            ap=values["ap"] == "yes",
            subjects=values["subjects"] == "yes",
            reasons=values["reasons"],
            ap_number=values.get("ap_number") or None,
        )
        try:
            await deps.db(
                core.decide,
                deps.desk,
                reference=reference,
                decision=decision,
                actor=actor_of(user),
                now=deps.clock(),
            )
        except (core.UnknownBreach, core.BreachRefused) as exc:
            await tell(deps, channel=channel, user=user, text=str(exc))
            return
        ap = "gemeld bij de AP" if decision.ap else "niet gemeld bij de AP"
        text = f"{reference}: besluit vastgelegd ({ap}). / Decision recorded."
        if decision.subjects:
            text += f" Conceptbericht aan de betrokkenen: `dsr breaches notice {reference}`."
        await tell(deps, channel=channel, user=user, text=text)

"""What the modal submissions share: read the form, act, tell the user privately."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.slack.blocks import read_modal
from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, admit, user_of
from handlers.slack.stamp import CaseStamp
from handlers.slack.texts import NOT_AUTHORISED
from handlers.slack.triage import run_action

logger = logging.getLogger("dsr.slack.views")
REQUIRED = "Required / Verplicht"


async def tell(deps: SlackDeps, *, channel: str, user: str, text: str) -> None:
    """Ephemeral in the case's channel; a direct message when that is not possible."""
    try:
        await deps.client.chat_postEphemeral(channel=channel or user, user=user, text=text)
    except SlackApiError:
        logger.warning("slack: ephemeral answer failed; sending it as a direct message")
        await deps.client.chat_postMessage(channel=user, text=text)


def missing(values: Mapping[str, str], *names: str) -> dict[str, str]:
    return {name: REQUIRED for name in names if not values.get(name)}


async def submit(
    deps: SlackDeps,
    body: Mapping[str, Any],
    action: str,
    values: Mapping[str, str],
    arguments: Mapping[str, str],
) -> None:
    """Admit the submission, act on the case as it is now, tell the user what happened."""
    stamp = CaseStamp.decode(values.get("meta.stamp", ""))
    user, channel = user_of(body), values.get("meta.channel", deps.channel)
    if stamp is None:
        return
    verdict = await admit(deps, body, what=f"{action} {stamp.reference}")
    if verdict is Verdict.REFUSED:
        await tell(deps, channel=channel, user=user, text=NOT_AUTHORISED)
    if verdict is not Verdict.ACT:
        return
    outcome = await run_action(
        deps, action, reference=stamp.reference, user_id=user, shown=stamp, arguments=arguments
    )
    await tell(deps, channel=channel, user=user, text=outcome.text)


def form(body: Mapping[str, Any]) -> dict[str, str]:
    return read_modal(body.get("view") or {})

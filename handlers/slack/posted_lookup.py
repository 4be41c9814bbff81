"""A case message Slack may already have: a worker that died (or was stopped) after Slack
took its post but before the post was recorded leaves the row to be sent again. Case messages
carry the reference in their metadata, and a row sent again looks for it first."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.slack.deps import SlackDeps
from storage.models import Case

logger = logging.getLogger("dsr.slack.delivery")
CASE_EVENT = "dsr_case_message"
# The newest messages of the channel that are searched: a row is sent again minutes after
# the lost post (its lease), not after hundreds of other messages.
HISTORY_LIMIT = 200


def case_metadata(case: Case) -> dict[str, Any]:
    return {"event_type": CASE_EVENT, "event_payload": {"reference": case.reference}}


async def find_case_message(deps: SlackDeps, case: Case) -> str | None:
    """The `ts` of the case's message in the channel, when an earlier attempt posted it."""
    try:
        response = await deps.client.conversations_history(
            channel=deps.channel, limit=HISTORY_LIMIT, include_all_metadata=True
        )
    except SlackApiError as exc:  # e.g. missing_scope: post again rather than never
        logger.warning(
            "case=%s slack: cannot read the channel (%s); posting the case message again",
            case.reference,
            exc.response.get("error"),
        )
        return None
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == CASE_EVENT and payload.get("reference") == case.reference:
            return str(message["ts"])
    return None

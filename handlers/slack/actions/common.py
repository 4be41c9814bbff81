"""What the case-message actions share: the stamp they carry and the way they answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncRespond

from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, admit, user_of
from handlers.slack.stamp import CaseStamp
from handlers.slack.texts import NOT_AUTHORISED


def shown_stamp(body: Mapping[str, Any]) -> CaseStamp | None:
    action = (body.get("actions") or [{}])[0]
    return CaseStamp.decode(str(action.get("value") or action.get("block_id") or ""))


def channel_of(body: Mapping[str, Any], deps: SlackDeps) -> str:
    return str((body.get("channel") or {}).get("id") or deps.channel)


async def whisper(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def admitted(
    deps: SlackDeps, body: Mapping[str, Any], respond: AsyncRespond, *, what: str
) -> tuple[CaseStamp, str] | None:
    """The stamp and user when this press may act; otherwise answer and return None."""
    stamp = shown_stamp(body)
    if stamp is None:
        return None
    verdict = await admit(deps, body, what=f"{what} {stamp.reference}")
    if verdict is Verdict.REFUSED:
        await whisper(respond, NOT_AUTHORISED)
    return (stamp, user_of(body)) if verdict is Verdict.ACT else None

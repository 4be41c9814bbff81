"""The Slack calls of the worker: the case message (post, or update in place) and notes in
its thread. Exceptions from Slack are left to the caller to classify."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.download_upkeep import download_note
from bot.tasks import systems_answered
from handlers.slack.blocks import build_case_message
from handlers.slack.deps import SlackDeps
from handlers.slack.posted_lookup import NoteMark, case_metadata
from handlers.slack.texts import thread_note
from storage.models import Case

# chat.update cannot reach the old message: post a fresh one instead.
REPOST_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


async def post_case(deps: SlackDeps, case: Case) -> Posted | None:
    """Update the case's message in place; post it when it has none. Returns a new post."""
    answered = await asyncio.to_thread(systems_answered, deps.desk, case_id=case.id)
    download = await asyncio.to_thread(download_note, deps.desk, case_id=case.id)
    text, blocks = build_case_message(
        case, now=deps.clock(), tz=deps.desk.tz, answered=answered, download=download
    )
    if case.slack_ts and case.slack_channel:
        try:
            await deps.client.chat_update(
                channel=case.slack_channel,
                ts=case.slack_ts,
                text=text,
                blocks=blocks,
                metadata=case_metadata(case),
            )
            return None
        except SlackApiError as exc:
            if exc.response.get("error") not in REPOST_ERRORS:
                raise
    response = await deps.client.chat_postMessage(
        channel=deps.channel,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
        metadata=case_metadata(case),
    )
    return Posted(channel=str(response["channel"]), ts=str(response["ts"]))


async def post_note(
    deps: SlackDeps, case: Case, payload: dict[str, Any], *, mark: NoteMark, posted: list[Posted]
) -> None:
    """A follow-up in the case's thread, marked with its outbox row; posts the case message
    first when there is none. A new case message is appended to `posted` as soon as it exists.
    A row sent again into an existing thread posts nothing when its note is there already."""
    channel, ts = case.slack_channel, case.slack_ts
    if channel and ts:
        if await mark.already_posted(deps, channel=channel, thread_ts=ts):
            return
    else:
        first = await post_case(deps, case)
        if first is not None:
            posted.append(first)
            channel, ts = first.channel, first.ts
    await deps.client.chat_postMessage(
        channel=channel or deps.channel,
        thread_ts=ts,
        text=f"{case.reference}: {note_text(payload)}",
        metadata=mark.metadata,
    )


def note_text(payload: dict[str, Any]) -> str:
    if payload.get("text"):
        return str(payload["text"])
    return thread_note(
        str(payload.get("note", "")),
        closed=bool(payload.get("closed")),
        other_sender=bool(payload.get("other_sender")),
    )


def direct_user(payload: dict[str, Any]) -> str | None:
    """A reminder for a case assigned in Slack goes to that person, not the channel."""
    user = str(payload.get("dm_user") or "")
    if payload.get("broadcast", True) or not user.startswith("slack:"):
        return None
    return user.removeprefix("slack:")


async def post_text(deps: SlackDeps, payload: dict[str, Any], *, channel: str) -> None:
    """A row without a case message (digest, direct message): its text where it belongs."""
    await deps.client.chat_postMessage(channel=channel, text=note_text(payload))

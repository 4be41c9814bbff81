"""A post Slack may already have: a worker that died (or was stopped) after Slack took its
post but before the post was recorded leaves the row to be sent again. Case messages carry
the reference in their metadata and thread notes the id of their outbox row; a row sent again
looks for its mark first (the channel's newest messages for a case message, the thread for a
note), so that it updates or records what Slack has instead of posting it a second time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from handlers.slack.deps import SlackDeps
from storage.models import Case

logger = logging.getLogger("dsr.slack.delivery")
CASE_EVENT = "dsr_case_message"
NOTE_EVENT = "dsr_note"
# The messages read per call: a row is sent again minutes after the lost post (its lease),
# not after hundreds of other messages. The channel's newest page is read; a thread comes
# oldest first, so its pages are followed up to THREAD_PAGES.
HISTORY_LIMIT = 200
THREAD_PAGES = 5

Read = Callable[[str | None], Awaitable[Any]]  # a cursor -> one page of messages


def case_metadata(case: Case) -> dict[str, Any]:
    return {"event_type": CASE_EVENT, "event_payload": {"reference": case.reference}}


@dataclass(frozen=True)
class NoteMark:
    """The outbox row a note in a thread is posted for. Its id (no personal data) marks the
    note in Slack's metadata; a row sent again (attempts > 1) looks for its note first."""

    row_id: int
    attempts: int

    @property
    def metadata(self) -> dict[str, Any]:
        return {"event_type": NOTE_EVENT, "event_payload": {"outbox": str(self.row_id)}}

    async def already_posted(self, deps: SlackDeps, *, channel: str, thread_ts: str) -> bool:
        """True when this row is sent again and an earlier attempt's note is in the thread;
        a first attempt asks Slack nothing."""
        if self.attempts <= 1:
            return False

        def read(cursor: str | None) -> Awaitable[Any]:
            return deps.client.conversations_replies(
                channel=channel,
                ts=thread_ts,
                cursor=cursor,
                limit=HISTORY_LIMIT,
                include_all_metadata=True,
            )

        what = f"outbox={self.row_id}"
        ts = await _find(read, self.metadata, pages=THREAD_PAGES, what=what, where="the thread")
        if ts is not None:
            logger.info("%s slack: note of an earlier attempt found; not posted again", what)
        return ts is not None


async def find_case_message(deps: SlackDeps, case: Case) -> str | None:
    """The `ts` of the case's message in the channel, when an earlier attempt posted it."""

    def read(cursor: str | None) -> Awaitable[Any]:
        return deps.client.conversations_history(
            channel=deps.channel, cursor=cursor, limit=HISTORY_LIMIT, include_all_metadata=True
        )

    what = f"case={case.reference}"
    return await _find(read, case_metadata(case), pages=1, what=what, where="the channel")


async def _find(
    read: Read, mark: Mapping[str, Any], *, pages: int, what: str, where: str
) -> str | None:
    """The `ts` of the first message carrying `mark`, reading up to `pages` pages. When Slack
    refuses the read (a missing scope, a rate limit the client did not wait out) the post is
    sent again rather than never; a connection error is left to the worker (the row is
    retried)."""
    cursor: str | None = None
    for _ in range(pages):
        try:
            response = await read(cursor)
        except SlackApiError as exc:
            logger.warning(
                "%s slack: cannot read %s (%s); posting again",
                what,
                where,
                exc.response.get("error"),
            )
            return None
        for message in response.get("messages") or []:
            if _carries(message, mark):
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            break
    return None


def _carries(message: Mapping[str, Any], mark: Mapping[str, Any]) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    wanted: Mapping[str, Any] = mark["event_payload"]
    return metadata.get("event_type") == mark["event_type"] and all(
        key in payload and str(payload[key]) == str(value) for key, value in wanted.items()
    )

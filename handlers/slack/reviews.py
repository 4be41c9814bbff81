"""Review items in Slack: the worker's post, update and reminder, `/dsr review`, and one way
for the buttons and modals to admit a user and run the core decision."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import review as core
from bot.categories import UnknownKind
from bot.review_queue import REMINDER
from handlers.slack.deps import LIST_LIMIT, SlackDeps
from handlers.slack.guard import Verdict, admit, user_of
from handlers.slack.posted_lookup import NoteMark
from handlers.slack.review_blocks import (
    build_review_list,
    build_review_message,
    review_reminder_text,
)
from handlers.slack.sender import REPOST_ERRORS
from handlers.slack.texts import NOT_AUTHORISED, SOMETHING_WENT_WRONG
from storage.reviews import get_review_row, remember_review_message

logger = logging.getLogger("dsr.slack.review")
REFUSALS = (core.UnknownReview, core.ReviewRefused, UnknownKind)


@dataclass(frozen=True)
class Shown:
    """A review item as the worker renders it, and where its message lives."""

    view: core.ReviewView
    channel: str | None
    ts: str | None


def _shown(deps: SlackDeps, item_id: int) -> Shown | None:
    with deps.desk.transaction() as session:
        row = get_review_row(session=session, item_id=item_id)
        if row is None:
            return None
        view = core.view_of(deps.desk, session, row, now=deps.clock())
        return Shown(view, row.item.slack_channel, row.item.slack_ts)


def _remember(deps: SlackDeps, item_id: int, channel: str, ts: str) -> None:
    with deps.desk.transaction() as session:
        remember_review_message(session=session, item_id=item_id, channel=channel, ts=ts)


async def deliver_review(
    deps: SlackDeps, kind: str, payload: Mapping[str, Any], *, mark: NoteMark
) -> str | None:
    """Post or update the item's message, or post a reminder in its thread (marked with its
    outbox row, and not posted again when a row sent again finds it there). None when sent;
    otherwise why the row is dropped. Slack's errors are left to the worker to classify."""
    item_id = int(payload.get("review") or 0)
    shown = await deps.db(_shown, deps, item_id)
    if shown is None:
        return "the review item no longer exists"
    if not (shown.ts or deps.channel):
        return "no DSR_SLACK_CHANNEL configured"
    if kind == REMINDER:
        if shown.view.state != "waiting":
            return "the item was decided before the reminder went out"
        text = review_reminder_text(item_id, int(payload.get("waiting_days") or 0))
        if shown.channel and shown.ts:
            if await mark.already_posted(deps, channel=shown.channel, thread_ts=shown.ts):
                return None
        await deps.client.chat_postMessage(
            channel=shown.channel or deps.channel,
            thread_ts=shown.ts,
            text=text,
            metadata=mark.metadata,
        )
        return None
    text, blocks = build_review_message(shown.view, tz=deps.desk.tz)
    if shown.ts and shown.channel:
        try:
            await deps.client.chat_update(
                channel=shown.channel, ts=shown.ts, text=text, blocks=blocks
            )
            return None
        except SlackApiError as exc:
            if exc.response.get("error") not in REPOST_ERRORS:
                raise
    response = await deps.client.chat_postMessage(
        channel=deps.channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
    )
    await deps.db(_remember, deps, item_id, str(response["channel"]), str(response["ts"]))
    return None


def review_list_blocks(deps: SlackDeps) -> tuple[str, list[dict[str, Any]]]:
    """`/dsr review` (sync; run in a thread)."""
    views = core.list_reviews(deps.desk, now=deps.clock(), limit=LIST_LIMIT + 1)
    return build_review_list(views[:LIST_LIMIT], tz=deps.desk.tz, more=len(views) > LIST_LIMIT)


async def admitted(deps: SlackDeps, body: Mapping[str, Any], *, item_id: int, what: str) -> bool:
    """Whether this delivery may act; a refused user is told so privately."""
    verdict = await admit(deps, body, what=f"{what} {item_id}")
    if verdict is Verdict.REFUSED:
        await tell(deps, body, NOT_AUTHORISED)
    return verdict is Verdict.ACT


async def tell(deps: SlackDeps, body: Mapping[str, Any], text: str, channel: str = "") -> None:
    """Ephemeral in the channel; a direct message when that is not possible."""
    user = user_of(body)
    where = channel or str((body.get("channel") or {}).get("id") or deps.channel)
    try:
        await deps.client.chat_postEphemeral(channel=where or user, user=user, text=text)
    except SlackApiError:
        logger.warning("slack: ephemeral answer failed; sending it as a direct message")
        await deps.client.chat_postMessage(channel=user, text=text)


async def decide(
    deps: SlackDeps, body: Mapping[str, Any], action: str, *, item_id: int, **arguments: Any
) -> str:
    """Run the core decision for the user; the sentence to tell them."""
    call: Callable[..., core.Decision] = (
        core.open_review if action == "open" else core.dismiss_review
    )
    actor = f"slack:{user_of(body)}"
    try:
        decision = await deps.db(
            call, deps.desk, item_id=item_id, actor=actor, now=deps.clock(), **arguments
        )
    except REFUSALS as exc:
        return str(exc)
    except Exception:
        logger.exception("review=%s slack %s failed", item_id, action)
        return SOMETHING_WENT_WRONG
    deps.poke()
    logger.info("review=%s %s by slack case=%s", item_id, decision.state, decision.reference)
    if decision.reference:
        return (
            f"Review {item_id}: case / zaak {decision.reference} opened / geopend; the "
            "acknowledgement is on its way / de ontvangstbevestiging wordt verstuurd."
        )
    return (
        f"Review {item_id}: not a request; nothing sent. / "
        f"Beoordeling {item_id}: geen verzoek; niets verstuurd."
    )

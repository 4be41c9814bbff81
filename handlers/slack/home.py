"""App Home: built from the core's queue, published per user, re-published on changes."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import cases as core
from bot.views import case_summary
from handlers.slack.blocks import build_home, build_home_refused
from handlers.slack.deps import HOME_LIMIT, SlackDeps
from storage.cases import count_by_state

logger = logging.getLogger("dsr.slack.home")


def home_view(deps: SlackDeps) -> dict[str, Any]:
    now, desk = deps.clock(), deps.desk
    found = core.list_cases(desk, query=core.CaseQuery(limit=HOME_LIMIT + 1), now=now)
    with desk.transaction() as session:
        counts = count_by_state(session=session)
    summaries = [case_summary(c, now=now, tz=desk.tz) for c in found[:HOME_LIMIT]]
    return build_home(summaries, counts=counts, more=len(found) > HOME_LIMIT)


async def publish_home(deps: SlackDeps, user_id: str, *, allowed: bool = True) -> None:
    view = await deps.db(home_view, deps) if allowed else build_home_refused()
    await deps.client.views_publish(user_id=user_id, view=view)
    if allowed:
        deps.home_viewers.add(user_id)


async def refresh_homes(deps: SlackDeps) -> None:
    """Re-publish for everyone who opened Home since start (one query for all of them)."""
    if not deps.home_viewers:
        return
    view = await deps.db(home_view, deps)
    for user_id in sorted(deps.home_viewers):
        try:
            await deps.client.views_publish(user_id=user_id, view=view)
        except SlackApiError:
            logger.warning("slack: could not refresh a Home tab; it refreshes when opened")

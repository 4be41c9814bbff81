"""Before a listener acts: the delivery is claimed once (Slack retries never act twice) and
the user must be one of the secretariat; refusals are audited."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError

from handlers.slack.deps import SlackDeps
from handlers.slack.store import add_receipt, receipt_seen
from storage.audit import append_event

logger = logging.getLogger("dsr.slack")


class Verdict(StrEnum):
    ACT = "act"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """What identifies one delivery across Slack's retries."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    kind = body.get("type")
    if kind == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash', '')}"
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        user = (body.get("user") or {}).get("id", "")
        return f"action:{user}:{actions[0].get('action_ts', '')}:{actions[0].get('action_id')}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return None


def user_of(body: Mapping[str, Any]) -> str:
    if body.get("user_id"):
        return str(body["user_id"])
    user = body.get("user") or (body.get("event") or {}).get("user") or ""
    return str(user.get("id", "")) if isinstance(user, Mapping) else str(user)


def actor_of(user_id: str) -> str:
    return f"slack:{user_id}"


async def admit(
    deps: SlackDeps, body: Mapping[str, Any], *, what: str, owner: str | None = None
) -> Verdict:
    """Claim this delivery and check who sent it; call after ack, before touching a case.
    `owner` (`slack:U…`, a task's assignee) may act besides the secretariat."""
    key = delivery_key(body)
    if key is not None and not await deps.db(_claim, deps, key):
        logger.info("slack: %s delivered again; already handled", what)
        return Verdict.DUPLICATE
    user = user_of(body)
    if user and (owner == actor_of(user) or await deps.members.allows(user)):
        return Verdict.ACT
    await deps.db(_audit_refusal, deps, user, what)
    logger.warning("slack: unauthorised user tried %s", what)
    return Verdict.REFUSED


async def claimed(deps: SlackDeps, body: Mapping[str, Any]) -> bool:
    """True the first time this delivery arrives (for listeners that decide themselves who may
    act, like a file shared by a task's owner)."""
    key = delivery_key(body)
    return key is None or await deps.db(_claim, deps, key)


def _claim(deps: SlackDeps, key: str) -> bool:
    try:
        with deps.desk.transaction() as session:
            if receipt_seen(session=session, key=key):
                return False
            add_receipt(session=session, key=key, now=deps.clock())
            return True
    except IntegrityError:
        return False  # a concurrent retry claimed it first


def _audit_refusal(deps: SlackDeps, user: str, what: str) -> None:
    with deps.desk.transaction() as session:
        append_event(
            session=session,
            at=deps.clock(),
            actor=actor_of(user or "unknown"),
            action="unauthorised",
            details={"what": what},
        )

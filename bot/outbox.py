"""Putting mail and Slack posts into the stored outbox, in the caller's transaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.compose import compose
from bot.desk import Desk
from bot.lookup import person_key
from bot.templates import render_mail
from storage.audit import append_event
from storage.messages import add_message
from storage.models import Case
from storage.outbox import add_item, add_items, count_recent_automatic
from storage.secrets import get_or_create_secret

logger = logging.getLogger("dsr.outbox")

# Mails that disclose or change personal data: never queued for an unverified case.
OUTCOME_TEMPLATES = frozenset({"outcome_done"})


class UnverifiedDisclosure(PermissionError):
    """An outcome mail was asked for a case whose requester has not been verified."""


def loop_token(desk: Desk, session: Session) -> str:
    """The installation's key for `bot.compose.loop_mark`, the stored secret `loop_mark_key`
    (shared by instances; it never changes and never leaves in a mail)."""
    token = desk.cache.get("loop_mark_key")
    if token is None:
        token = desk.cache["loop_mark_key"] = get_or_create_secret(
            session=session, name="loop_mark_key"
        )
    return token


def queue_mail(
    desk: Desk,
    *,
    session: Session,
    case: Case | None,
    template: str,
    to: str,
    now: datetime,
    context: dict[str, Any],
    dedupe_key: str,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    automatic: bool = True,
    language: str | None = None,
    part_of_reply: bool = False,
) -> bool:
    """Render, store and queue one mail (about a case, or none: a digest); False when held
    back or already queued. `language` overrides the case's (mail to the secretariat).
    `part_of_reply`: a second mail of an automatic reply already counted (the code that goes
    with an acknowledgement); machine-marked like it, not counted again for the daily limit."""
    case_id, reference = (case.id, case.reference) if case else (None, None)
    if template in OUTCOME_TEMPLATES and (case is None or case.verified_at is None):
        raise UnverifiedDisclosure(
            f"case {reference} is not verified; no outcome mail may leave before "
            "the requester's identity is confirmed"
        )
    lang = language or (case.language if case else "nl")
    settings = desk.settings
    recipient_key = person_key(desk, to)
    counted = automatic and not part_of_reply
    if counted and _over_daily_limit(desk, session=session, recipient_key=recipient_key, now=now):
        append_event(
            session=session,
            at=now,
            actor="system",
            action="auto_reply_held_back",
            case_id=case_id,
            reference=reference,
            details={"template": template},
        )
        logger.warning("case=%s automatic mail held back: daily limit per address", reference)
        return False
    base = {"reference": reference} if case else {}
    rendered = render_mail(template, language=lang, context={**base, **context})
    composed = compose(
        rendered,
        sender=settings.sender_address,
        to=to,
        now=now,
        own_domain=settings.own_domain,
        loop_secret=loop_token(desk, session),
        language=lang,
        in_reply_to=in_reply_to,
        references=references,
        automatic=automatic,
    )
    raw, message_id = composed.raw, composed.message_id
    queued = add_item(
        session=session,
        row={
            "channel": "mail",
            "kind": ("auto." if counted else "") + template,
            "dedupe_key": dedupe_key,
            "case_id": case_id,
            "recipient": to,
            "recipient_key": recipient_key,
            "message_id": message_id,
            "payload": raw,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    if not queued:
        return False
    add_message(
        session=session,
        case_id=case_id,
        direction="out",
        dedupe_key=message_id,
        message_id=message_id,
        at=now,
        subject=rendered.subject,
        sender=settings.sender_address,
        size=len(raw),
        action="queued",
        raw=raw,
    )
    append_event(
        session=session,
        at=now,
        actor="system",
        action="mail_queued",
        case_id=case_id,
        reference=reference,
        details={"template": template},
    )
    return True


def _over_daily_limit(desk: Desk, *, session: Session, recipient_key: str, now: datetime) -> bool:
    recent = count_recent_automatic(
        session=session, recipient_key=recipient_key, since=now - timedelta(days=1)
    )
    return recent >= desk.settings.max_auto_replies_per_day


def _slack_row(
    case: Case | None,
    *,
    kind: str,
    dedupe_key: str,
    now: datetime,
    payload: dict[str, Any] | None,
) -> dict[str, Any]:
    body = {"reference": case.reference if case else None, **(payload or {})}
    return {
        "channel": "slack",
        "kind": kind,
        "dedupe_key": dedupe_key,
        "case_id": case.id if case else None,
        "recipient": "",
        "payload": json.dumps(body).encode(),
        "created_at": now,
        "next_attempt_at": now,
    }


def queue_slack(
    desk: Desk,
    *,
    session: Session,
    case: Case | None,
    kind: str,
    dedupe_key: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Queue a Slack call; the Slack worker renders from the case as it is when it sends.
    False when Slack is off or the call was queued before."""
    if not desk.settings.slack_bot_token:
        return False
    row = _slack_row(case, kind=kind, dedupe_key=dedupe_key, now=now, payload=payload)
    return add_item(session=session, row=row)


def queue_slack_many(
    desk: Desk,
    *,
    session: Session,
    kind: str,
    now: datetime,
    calls: Sequence[tuple[Case, str, dict[str, Any]]],
) -> int:
    """`queue_slack` for many (case, dedupe key, payload) at once; how many were queued."""
    if not desk.settings.slack_bot_token:
        return 0
    rows = [
        _slack_row(case, kind=kind, dedupe_key=key, now=now, payload=payload)
        for case, key, payload in calls
    ]
    return add_items(session=session, rows=rows)

"""The review route: mail that might be a request waits for a person, who opens a case for
it or says it is not a request. One function per action, shared by Slack and the terminal.

Nothing is sent while an item waits. Opening a case treats the stored mail exactly as intake
treats a recognised request (case, Slack post, acknowledgement, identity code), with the
kind the person chose and the legal clock running from the mail's receipt (GDPR art. 12(3);
the period starts the day after receipt, Regulation 1182/71 art. 3(1)), not from the click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.cases import audit
from bot.categories import check_kind
from bot.compose import LOOP_HEADER, message_id_domain
from bot.desk import Desk
from bot.intake import Request, open_request
from bot.mail.machine import classify_sender
from bot.mail.parse import parse_message
from bot.outbox import loop_token
from bot.privacy import mask_address
from bot.review_queue import queue_review_update, waiting_days
from storage.audit import append_event
from storage.models import Case, Message, ReviewItem
from storage.reviews import (
    DISMISSED,
    OPENED,
    WAITING,
    ReviewRow,
    get_review_row,
    link_message,
    list_review_items,
    lock_review_item,
    mark_decided,
)

NOTE_LIMIT = 2000


class UnknownReview(LookupError):
    def __init__(self, item_id: int) -> None:
        super().__init__(
            f"unknown review item {item_id}; see the waiting ones (dsr review list, /dsr review)"
        )
        self.item_id = item_id


class ReviewRefused(ValueError):
    """The decision is not possible for this item as it is now; the message says why."""


@dataclass(frozen=True)
class ReviewView:
    """A review item as people see it. `subject` is for the terminal only: Slack is a third
    party and shows the number, kind, dates and a masked address."""

    id: int
    state: str
    received_at: datetime
    category: str
    also: tuple[str, ...]
    confidence: float
    language: str
    sender: str  # masked
    subject: str
    reason: str
    waiting_days: int
    suggested_kind: str | None
    case: str | None
    decided_by: str | None

    def to_json(self, *, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "received_at": self.received_at.astimezone(tz).isoformat(),
            "category": self.category,
            "also": list(self.also),
            "confidence": self.confidence,
            "language": self.language,
            "sender": self.sender,
            "subject": self.subject,
            "reason": self.reason,
            "waiting_days": self.waiting_days,
            "case": self.case,
            "decided_by": self.decided_by,
        }


@dataclass(frozen=True)
class Decision:
    item_id: int
    state: str
    reference: str | None = None


def suggested_kind(item: ReviewItem) -> str | None:
    """The kind a person is offered first: the guess, or the request kind seen beside it."""
    if item.category != "other":
        return item.category
    return item.also[0] if item.also else None


def view_of(desk: Desk, session: Session, row: ReviewRow, *, now: datetime) -> ReviewView:
    item = row.item
    today = now.astimezone(desk.tz).date()
    case = session.get(Case, item.case_id) if item.case_id is not None else None
    return ReviewView(
        id=item.id or 0,
        state=item.state,
        received_at=item.received_at,
        category=item.category,
        also=tuple(item.also),
        confidence=item.confidence,
        language=item.language,
        sender=mask_address(row.sender),
        subject=row.subject,
        reason=item.reason,
        waiting_days=waiting_days(item.received_at, today=today, tz=desk.tz, cal=desk.calendar),
        suggested_kind=suggested_kind(item),
        case=case.reference if case is not None else None,
        decided_by=item.decided_by,
    )


def list_reviews(
    desk: Desk, *, now: datetime, include_decided: bool = False, limit: int | None = None
) -> list[ReviewView]:
    """The waiting items, the longest waiting first (all items with `include_decided`)."""
    states = (WAITING, OPENED, DISMISSED) if include_decided else (WAITING,)
    with desk.reading() as session:
        rows = list_review_items(session=session, states=states, limit=limit)
        return [view_of(desk, session, row, now=now) for row in rows]


def get_review(desk: Desk, *, item_id: int, now: datetime) -> ReviewView:
    with desk.reading() as session:
        row = get_review_row(session=session, item_id=item_id)
        if row is None:
            raise UnknownReview(item_id)
        return view_of(desk, session, row, now=now)


def _lock_waiting(session: Session, item_id: int) -> ReviewItem:
    item = lock_review_item(session=session, item_id=item_id)
    if item is None:
        raise UnknownReview(item_id)
    if item.state == OPENED:
        case = session.get(Case, item.case_id) if item.case_id is not None else None
        reference = case.reference if case is not None else "a case"
        raise ReviewRefused(
            f"review item {item_id} was already opened as {reference} by {item.decided_by}; "
            "nothing changed"
        )
    if item.state != WAITING:
        raise ReviewRefused(
            f"review item {item_id} was already marked not a request by {item.decided_by}; "
            "nothing changed"
        )
    return item


def open_review(
    desk: Desk, *, item_id: int, kind: str | None, actor: str, now: datetime
) -> Decision:
    """Open a case for the item's mail with `kind` (default: the suggested kind), in one
    transaction with the acknowledgement and the code to the requester."""
    chosen = check_kind(kind) if kind and kind.strip() else None
    with desk.transaction() as session:
        item = _lock_waiting(session, item_id)
        chosen = chosen or suggested_kind(item)
        if chosen is None:
            raise ReviewRefused(
                f"review item {item_id} has no suggested kind; choose one (--kind, or the "
                "select in Slack)"
            )
        message = session.get(Message, item.message_id)
        if message is None or message.purged_at is not None or not message.raw:
            raise ReviewRefused(
                f"the mail of review item {item_id} is no longer stored; open a case by hand"
            )
        case = _open_case(desk, session, item, message, kind=chosen, now=now)
        link_message(session=session, message_row_id=item.message_id, case_id=case.id or 0)
        mark_decided(
            session=session, item=item, state=OPENED, actor=actor, now=now, case_id=case.id
        )
        audit(
            session,
            case,
            now=now,
            actor=actor,
            action="review_opened",
            details={"review": item_id, "kind": chosen, "suggested": item.category},
        )
        queue_review_update(desk, session=session, item_id=item_id, state=OPENED, now=now)
        return Decision(item_id, OPENED, case.reference)


def _open_case(
    desk: Desk, session: Session, item: ReviewItem, message: Message, *, kind: str, now: datetime
) -> Case:
    mail = parse_message(message.raw, max_attachment_bytes=desk.settings.max_attachment_bytes)
    verdict = classify_sender(
        mail,
        own_domains={message_id_domain(desk.settings.own_domain)},
        loop_header=LOOP_HEADER,
        own_loop_token=loop_token(desk, session),
    )
    request = Request(
        category=kind,
        also=tuple(k for k in item.also if k != kind),
        confidence=item.confidence,
        needs_triage=False,
        evidence=tuple(item.evidence),
        language=item.language,
    )
    return open_request(
        desk,
        session=session,
        mail=mail,
        verdict=verdict,
        request=request,
        received_at=item.received_at,
        now=now,
    )


def dismiss_review(
    desk: Desk, *, item_id: int, note: str | None, actor: str, now: datetime
) -> Decision:
    """Not a request: the item is closed with the person's optional note; nothing is sent."""
    text = (note or "").strip()[:NOTE_LIMIT] or None
    with desk.transaction() as session:
        item = _lock_waiting(session, item_id)
        mark_decided(session=session, item=item, state=DISMISSED, actor=actor, now=now, note=text)
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="review_dismissed",
            details={"review": item_id, "suggested": item.category},
            note=text,
        )
        queue_review_update(desk, session=session, item_id=item_id, state=DISMISSED, now=now)
        return Decision(item_id, DISMISSED)

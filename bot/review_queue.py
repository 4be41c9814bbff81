"""What the secretariat is told about review items, queued in the caller's transaction: the
item's Slack message when it arrives, its update when a person decides, and a reminder once
per working day while it waits too long.

A review item has no case and no deadline of its own, but the mail may be a request whose
legal month (GDPR art. 12(3)) runs from its receipt; so an item waiting longer than one
working day is reminded in the channel every working day and listed in the daily digest.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.calendar_nl import DutchCalendar
from bot.deadline import local_date
from bot.desk import Desk
from bot.outbox import queue_slack
from storage.reviews import ReviewRow, waiting_before

logger = logging.getLogger("dsr.review")
LATE_AFTER_WORKING_DAYS = 1
REMINDER_LIMIT = 200
POSTED, UPDATED, REMINDER = "review_posted", "review_updated", "review_reminder"
REVIEW_KINDS = frozenset({POSTED, UPDATED, REMINDER})


def waiting_days(received_at: datetime, *, today: date, tz: ZoneInfo, cal: DutchCalendar) -> int:
    """Working days the item has waited: those after the day of receipt, up to today."""
    received_on = local_date(received_at, tz=tz, name="received_at")
    return max(0, cal.working_days_between(received_on, today))


def late_since(today: date, *, tz: ZoneInfo, cal: DutchCalendar) -> datetime:
    """Items received before this moment have waited longer than one working day today."""
    first_late_day = cal.add_working_days(today, -LATE_AFTER_WORKING_DAYS)
    return datetime.combine(first_late_day, datetime.min.time(), tzinfo=tz)


def queue_review_post(desk: Desk, *, session: Session, item_id: int, now: datetime) -> bool:
    """The item's message in the channel (no body, no subject: reference, kind, dates and a
    masked address only). False when Slack is off."""
    return queue_slack(
        desk,
        session=session,
        case=None,
        kind=POSTED,
        dedupe_key=f"slack:review:{item_id}:posted",
        now=now,
        payload={"review": item_id},
    )


def queue_review_update(
    desk: Desk, *, session: Session, item_id: int, state: str, now: datetime
) -> bool:
    """The item's message shows the decision and loses its buttons."""
    return queue_slack(
        desk,
        session=session,
        case=None,
        kind=UPDATED,
        dedupe_key=f"slack:review:{item_id}:{state}",
        now=now,
        payload={"review": item_id},
    )


def late_reviews(
    desk: Desk, *, session: Session, today: date, limit: int
) -> tuple[int, list[ReviewRow]]:
    """Waiting items that have waited longer than one working day today."""
    cutoff = late_since(today, tz=desk.tz, cal=desk.calendar)
    return waiting_before(session=session, received_before=cutoff, limit=limit)


def queue_review_reminders(
    desk: Desk, *, session: Session, today: date, now: datetime, dry_run: bool = False
) -> int:
    """One reminder per late item per working day, from DSR_DIGEST_TIME (office hours, not
    at night); the outbox dedupe key `review:reminder:ID:YYYY-MM-DD` makes it once across
    sweeps, restarts and instances. Returns how many were queued now (with `dry_run`: how
    many would be)."""
    settings = desk.settings
    if not settings.slack_bot_token or not desk.calendar.is_working_day(today):
        return 0
    if now.astimezone(desk.tz).time() < settings.digest_time:
        return 0
    _count, rows = late_reviews(desk, session=session, today=today, limit=REMINDER_LIMIT)
    if dry_run:
        return len(rows)
    queued = 0
    for row in rows:
        item = row.item
        days = waiting_days(item.received_at, today=today, tz=desk.tz, cal=desk.calendar)
        queued += queue_slack(
            desk,
            session=session,
            case=None,
            kind=REMINDER,
            dedupe_key=f"review:reminder:{item.id}:{today.isoformat()}",
            now=now,
            payload={"review": item.id, "waiting_days": days},
        )
    if queued:
        logger.info("review: %d reminder(s) queued", queued)
    return queued

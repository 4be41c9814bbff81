"""The Slack outbox worker: claims rows of channel "slack", renders from the case as it is
now, posts or updates, remembers where the message lives, and marks the row. Rows of one case
go out in order: a row waits while an older row of its case is unsent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.breach_alerts import BREACH_POSTED
from bot.reminders import drop_stale_reminders
from bot.review_queue import REVIEW_KINDS
from bot.states import CLOSED
from handlers.outbox_wake import wake_on_queue
from handlers.slack.breach_delivery import deliver_breach
from handlers.slack.deps import SlackDeps
from handlers.slack.failures import Failure, retry_at, slack_failure
from handlers.slack.home import refresh_homes
from handlers.slack.posted_lookup import NoteMark, find_case_message
from handlers.slack.reviews import deliver_review
from handlers.slack.sender import (
    Posted,
    direct_user,
    note_text,
    post_case,
    post_note,
    post_text,
)
from handlers.slack.store import earlier_unsent, prune_receipts, remember_message
from handlers.slack.task_dm import TASK_DM, deliver_task_dm
from storage.models import Case, OutboxItem
from storage.outbox import DROPPED, FAILED, claim_due, mark_final, mark_retry, mark_sent

logger = logging.getLogger("dsr.slack.delivery")
CASE_KINDS = frozenset({"case_posted", "case_updated"})
NOTE_KINDS = frozenset({"thread_note", "reminder"})
TEXT_KINDS = frozenset({"digest", "dm"})
UNKNOWN_KIND_WAIT = 3600.0
WAIT_FOR_EARLIER = timedelta(seconds=1)
RECEIPT_DAYS = 7


@dataclass(frozen=True)
class Row:
    id: int
    case_id: int | None
    kind: str
    payload: dict[str, Any]
    attempts: int

    @classmethod
    def of(cls, item: OutboxItem) -> Row:
        payload = json.loads(item.payload or b"{}")
        return cls(item.id or 0, item.case_id, item.kind, payload, item.attempts)

    @property
    def mark(self) -> NoteMark:
        """What a note in a thread carries, and how a row sent again finds it."""
        return NoteMark(row_id=self.id, attempts=self.attempts)


@dataclass(frozen=True)
class Result:
    state: str  # sent | retry | failed | dropped
    error: str = ""
    retry_after: float | None = None
    posted: Posted | None = None


class SlackDelivery:
    def __init__(
        self, deps: SlackDeps, *, batch: int = 20, lease: timedelta = timedelta(minutes=2)
    ) -> None:
        self.deps, self.batch, self.lease = deps, batch, lease

    async def run(self, stop: asyncio.Event, *, idle_seconds: float = 2.0) -> None:
        # Commits that queue Slack rows (this process's, or another instance's on PostgreSQL)
        # set the same event as a change made here.
        with wake_on_queue(self.deps.desk, "slack", self.deps.wake):
            await self._run(stop, idle_seconds=idle_seconds)

    async def _run(self, stop: asyncio.Event, *, idle_seconds: float) -> None:
        next_prune = self.deps.clock()
        while not stop.is_set():
            self.deps.wake.clear()
            try:
                handled = await self.deliver_due()
                if self.deps.clock() >= next_prune:
                    await asyncio.to_thread(self._prune)
                    next_prune = self.deps.clock() + timedelta(hours=1)
            except Exception:
                logger.exception("slack: delivery pass failed; trying again shortly")
                handled = 0
            if not handled:
                await _wait_any(stop, self.deps.wake, timeout=idle_seconds)

    async def deliver_due(self) -> int:
        """One pass: returns how many rows were claimed."""
        rows = await asyncio.to_thread(self._claim, self.deps.clock())
        blocked: set[int] = set()
        sent_case_rows = False
        for row in rows:
            if row.case_id is not None and row.case_id in blocked:
                await asyncio.to_thread(self._defer, row, WAIT_FOR_EARLIER)
                continue
            wait = await asyncio.to_thread(self._wait_for_earlier, row)
            result = Result("retry", "waiting for an earlier post", wait) if wait else None
            result = result or await self._send(row)
            await asyncio.to_thread(self._record, row, result)
            if result.state == "retry" and row.case_id is not None:
                blocked.add(row.case_id)
            sent_case_rows |= result.state == "sent" and row.case_id is not None
        if sent_case_rows:
            await refresh_homes(self.deps)
        return len(rows)

    async def _send(self, row: Row) -> Result:
        try:
            return await self._dispatch(row)
        except SlackApiError as exc:
            failure = slack_failure(exc)
            self.deps.desk.monitor.count("dsr_slack_api_errors", error=failure.error)
            return self._failed(row, failure)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.deps.desk.monitor.count("dsr_slack_api_errors", error="connection")
            return self._failed(row, Failure(False, f"connection: {type(exc).__name__}"))

    async def _dispatch(self, row: Row) -> Result:
        if row.kind == "home_refresh":
            await refresh_homes(self.deps)
            return Result("sent")
        if row.kind in TEXT_KINDS:
            return await self._text_row(row)
        if row.kind == TASK_DM:
            why = await deliver_task_dm(self.deps, row.payload)
            return Result(DROPPED, why) if why else Result("sent")
        if row.kind in REVIEW_KINDS:
            dropped = await deliver_review(self.deps, row.kind, row.payload, mark=row.mark)
            return Result(DROPPED, dropped) if dropped else Result("sent")
        if row.kind == BREACH_POSTED:
            dropped = await deliver_breach(self.deps, row.payload)
            return Result(DROPPED, dropped) if dropped else Result("sent")
        if row.kind not in CASE_KINDS | NOTE_KINDS:
            logger.warning("slack: outbox kind %s is not known here; kept for later", row.kind)
            return Result("retry", f"unknown kind {row.kind}", UNKNOWN_KIND_WAIT)
        case = await asyncio.to_thread(self._case, row.case_id)
        if case is None:
            return Result(DROPPED, "the case no longer exists")
        if not (case.slack_ts or self.deps.channel):
            return Result(DROPPED, "no DSR_SLACK_CHANNEL configured")
        if row.attempts > 1 and not case.slack_ts:
            case = await self._adopt_lost_post(case)
        if row.kind in CASE_KINDS:
            return Result("sent", posted=await post_case(self.deps, case))
        if row.kind == "reminder" and case.state in CLOSED:
            return Result(DROPPED, "the case was closed before the reminder went out")
        if user := direct_user(row.payload):
            await post_text(self.deps, {**row.payload, "text": _with_ref(case, row)}, channel=user)
            return Result("sent")
        holder: list[Posted] = []
        try:
            await post_note(self.deps, case, row.payload, mark=row.mark, posted=holder)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            if holder:  # the case message went out; remember it before retrying the note
                await asyncio.to_thread(self._remember, case, holder[0])
            raise exc from None
        return Result("sent", posted=holder[0] if holder else None)

    async def _text_row(self, row: Row) -> Result:
        target = row.payload.get("channel") or row.payload.get("user") or self.deps.channel
        if not target:
            return Result(DROPPED, "no DSR_SLACK_CHANNEL configured")
        await post_text(self.deps, row.payload, channel=str(target))
        return Result("sent")

    def _failed(self, row: Row, failure: Failure) -> Result:
        level = logging.ERROR if failure.permanent else logging.WARNING
        logger.log(level, "slack: outbox row %s (%s) failed: %s", row.id, row.kind, failure.error)
        kind = "permanent" if failure.permanent else "temporary"
        self.deps.desk.monitor.count("dsr_delivery_failures", channel="slack", kind=kind)
        return Result(FAILED if failure.permanent else "retry", failure.error, failure.retry_after)

    def _claim(self, now: datetime) -> list[Row]:
        with self.deps.desk.transaction() as session:
            items = drop_stale_reminders(
                session=session,
                items=claim_due(
                    session=session, channel="slack", now=now, limit=self.batch, lease=self.lease
                ),
            )
            return [Row.of(item) for item in items]

    def _wait_for_earlier(self, row: Row) -> float | None:
        """Seconds to wait when an older row of the same case is still unsent."""
        if row.case_id is None:
            return None
        with self.deps.desk.transaction() as session:
            earlier = earlier_unsent(session=session, case_id=row.case_id, before_id=row.id)
            if earlier is None:
                return None
            gap = (earlier.next_attempt_at - self.deps.clock()).total_seconds()
            return max(gap, WAIT_FOR_EARLIER.total_seconds())

    def _defer(self, row: Row, wait: timedelta) -> None:
        with self.deps.desk.transaction() as session:
            at = self.deps.clock() + wait
            mark_retry(session=session, item_id=row.id, at=at, error="waiting for an earlier post")

    async def _adopt_lost_post(self, case: Case) -> Case:
        """A row sent again may follow a post that reached Slack but was never recorded (its
        worker died): take that message over instead of posting the case a second time."""
        ts = await find_case_message(self.deps, case)
        if ts is None:
            return case
        logger.info(
            "case=%s slack: message of an earlier attempt found; not posted again", case.reference
        )
        await asyncio.to_thread(self._remember, case, Posted(channel=self.deps.channel, ts=ts))
        return await asyncio.to_thread(self._case, case.id) or case

    def _case(self, case_id: int | None) -> Case | None:
        if case_id is None:
            return None
        with self.deps.desk.transaction() as session:
            return session.get(Case, case_id)

    def _remember(self, case: Case, posted: Posted) -> None:
        with self.deps.desk.transaction() as session:
            remember_message(session=session, case_id=case.id or 0, **posted.as_dict())

    def _record(self, row: Row, result: Result) -> None:
        now = self.deps.clock()
        with self.deps.desk.transaction() as session:
            if result.posted is not None and row.case_id is not None:
                remember_message(session=session, case_id=row.case_id, **result.posted.as_dict())
            if result.state == "sent":
                mark_sent(session=session, item_id=row.id, now=now)
            elif result.state == "retry":
                at = retry_at(now, row.attempts, retry_after=result.retry_after)
                mark_retry(session=session, item_id=row.id, at=at, error=result.error)
            else:
                mark_final(session=session, item_id=row.id, state=result.state, error=result.error)

    def _prune(self) -> None:
        before = self.deps.clock() - timedelta(days=RECEIPT_DAYS)
        with self.deps.desk.transaction() as session:
            prune_receipts(session=session, before=before)


def _with_ref(case: Case, row: Row) -> str:
    return f"{case.reference}: {note_text(row.payload)}"


async def _wait_any(*events: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)

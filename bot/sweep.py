"""The reminder sweep: finds what is due and queues it through the outbox, exactly once.

Each reminder is recorded in `reminder_sent` in the same transaction that queues it; a row
that already exists means another sweep did it. On PostgreSQL one instance sweeps at a time
(advisory lock); the others skip the round. Candidates are read in batches in index order,
never all cases at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from bot.breach_alerts import escalate
from bot.categories import plain_words
from bot.deadline import local_date
from bot.desk import Desk
from bot.digest import queue_digest
from bot.download_upkeep import purge_links
from bot.notices import code_address
from bot.outbox import queue_mail, queue_slack_many
from bot.reminders import (
    DEADLINE,
    IDENTITY,
    SECRETARIAT_LANGUAGE,
    Policy,
    Reminder,
    context,
    make_reminder,
    next_deadline_step,
    next_identity_step,
    reminder_text,
    slack_payload,
)
from bot.reminders import IDENTITY_GIVE_UP as GIVE_UP
from bot.review_queue import queue_review_reminders
from bot.states import CLOSED, State
from bot.task_reminders import open_tasks_by_case, remind_contacts
from bot.wording import long_date
from storage.models import Case
from storage.reminders import (
    deadline_batch,
    identity_batch,
    record_steps,
    sent_steps,
    sweep_lock,
)

logger = logging.getLogger("dsr.reminders")
BATCH = 500
CLOSED_STATES = frozenset(str(s) for s in CLOSED)


@dataclass(frozen=True)
class Queued:
    reference: str
    step: str
    due: date
    to: str  # "secretariat" or "requester"
    channel: str  # "slack", "mail", or "held_back" (daily limit of automatic mail)


@dataclass
class SweepReport:
    now: datetime
    dry_run: bool
    skipped: bool = False
    reminders: list[Queued] = field(default_factory=list)
    duplicates: int = 0
    digest: dict[str, int] | None = None
    review_reminders: int = 0
    task_reminders: list[str] = field(default_factory=list)
    breach_alerts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "skipped": self.skipped,
            "queued": len(self.reminders),
            "duplicates": self.duplicates,
            "digest": self.digest,
            "review_reminders": self.review_reminders,
            "task_reminders": self.task_reminders,
            "breach_alerts": self.breach_alerts,
            "reminders": [
                {
                    "case": q.reference,
                    "step": q.step,
                    "due": q.due.isoformat(),
                    "to": q.to,
                    "channel": q.channel,
                }
                for q in self.reminders
            ],
        }


def run_sweep(desk: Desk, *, now: datetime, dry_run: bool = False) -> SweepReport:
    """One sweep at `now`; with `dry_run` it reports what would be sent and changes nothing."""
    today = local_date(now, tz=desk.tz, name="now")
    report = SweepReport(now=now, dry_run=dry_run)
    lock: AbstractContextManager[bool] = nullcontext(True) if dry_run else sweep_lock(desk.engine)
    with lock as ours:
        if not ours:
            report.skipped = True
            logger.info("reminders: another instance is sweeping; skipped this round")
            return report
        policy = Policy.from_settings(desk.settings)
        sweep = _Sweep(desk=desk, now=now, today=today, policy=policy, report=report)
        sweep.deadlines()
        sweep.identities()
        sweep.tasks()
        sweep.reviews()
        sweep.breaches()
        sweep.digest()
        if not dry_run:
            purge_links(desk, now=now)
    logger.info(
        "reminders: %d queued, %d already done elsewhere, digest %s%s",
        len(report.reminders),
        report.duplicates,
        "queued" if report.digest else "none",
        " (dry run)" if dry_run else "",
    )
    return report


def scheduled_sweep(desk: Desk, *, clock: Callable[[], datetime]) -> Callable[[], Awaitable[None]]:
    """The sweep as `dsr serve`'s scheduler runs it: in a worker thread, clock read each time."""

    async def reminders() -> None:
        await asyncio.to_thread(run_sweep, desk, now=clock())

    return reminders


Pending = list[tuple[Case, Reminder]]


@dataclass
class _Sweep:
    desk: Desk
    now: datetime
    today: date
    policy: Policy
    report: SweepReport

    @property
    def slack(self) -> bool:
        return bool(self.desk.settings.slack_bot_token)

    def deadlines(self) -> None:
        horizon = self.policy.horizon(self.today, self.desk.calendar)
        after: tuple[date, int] | None = None
        while True:
            with self.desk.transaction() as session:
                cases = deadline_batch(
                    session=session,
                    closed=CLOSED_STATES,
                    horizon=horizon,
                    after=after,
                    limit=BATCH,
                )
                sent = sent_steps(session=session, case_ids=[c.id or 0 for c in cases])
                pending = [
                    (case, found)
                    for case in cases
                    if (found := self._deadline(case, sent[case.id or 0])) is not None
                ]
                self._to_secretariat(session, self._claim(session, pending))
            if len(cases) < BATCH:
                return
            last = cases[-1]
            after = (last.extended_due or last.due, last.id or 0)

    def _deadline(self, case: Case, sent: set[tuple[str, date]]) -> Reminder | None:
        due = case.extended_due or case.due
        step = next_deadline_step(
            due=due,
            extended=case.extended_due is not None,
            today=self.today,
            sent={name for name, on in sent if on == due},
            policy=self.policy,
            calendar=self.desk.calendar,
        )
        if step is None:
            return None
        return make_reminder(case, step=step, purpose=DEADLINE, today=self.today)

    def identities(self) -> None:
        # received_on + N working days <= today implies received_on <= today - N: a superset.
        first_day = self.today - timedelta(days=self.policy.identity_working_days - 1)
        cutoff = datetime.combine(first_day, time(0), tzinfo=self.desk.tz)
        after = 0
        while True:
            with self.desk.transaction() as session:
                cases = identity_batch(
                    session=session,
                    state=State.AWAITING_IDENTITY,
                    received_before=cutoff,
                    after_id=after,
                    limit=BATCH,
                )
                sent = sent_steps(session=session, case_ids=[c.id or 0 for c in cases])
                pending = [
                    (case, found)
                    for case in cases
                    if (found := self._identity(case, {n for n, _ in sent[case.id or 0]}))
                ]
                won = self._claim(session, pending)
                self._to_secretariat(session, [p for p in won if p[1].step.name == GIVE_UP])
                for case, reminder in won:
                    if reminder.step.name != GIVE_UP:
                        self._to_requester(session, case, reminder)
            if len(cases) < BATCH:
                return
            after = cases[-1].id or after

    def _identity(self, case: Case, sent: set[str]) -> Reminder | None:
        step = next_identity_step(
            received_on=local_date(case.received_at, tz=self.desk.tz, name="received_at"),
            today=self.today,
            sent=sent,
            can_mail_requester="no_reply_address" not in case.flags,
            policy=self.policy,
            calendar=self.desk.calendar,
        )
        if step is None:
            return None
        return make_reminder(case, step=step, purpose=IDENTITY, today=self.today)

    def _claim(self, session: Session, pending: Pending) -> Pending:
        """Record the steps; keep those this sweep recorded (the others were done elsewhere)."""
        if self.report.dry_run:
            return pending
        keys = [(r.case_id, r.step.name, r.due) for _, r in pending]
        won = record_steps(session=session, steps=keys, at=self.now)
        self.report.duplicates += len(keys) - len(won)
        return [(c, r) for c, r in pending if (r.case_id, r.step.name, r.due) in won]

    def _to_secretariat(self, session: Session, pending: Pending) -> None:
        channel = "slack" if self.slack else "mail"
        pending = self._with_tasks(session, pending)
        if self.report.dry_run or not pending:
            pass
        elif self.slack:
            self._slack_rows(session, pending)
        else:
            for case, reminder in pending:
                queue_mail(
                    self.desk,
                    session=session,
                    case=case,
                    template="reminder_secretariat",
                    to=self.desk.settings.alert_address,
                    now=self.now,
                    context=context(reminder, language=SECRETARIAT_LANGUAGE),
                    dedupe_key=reminder.dedupe_key,
                    automatic=False,
                    language=SECRETARIAT_LANGUAGE,
                )
        for _, reminder in pending:
            self._note(reminder, to="secretariat", channel=channel)

    def _with_tasks(self, session: Session, pending: Pending) -> Pending:
        """Each deadline reminder names the case's open tasks and who has them."""
        found = open_tasks_by_case(
            self.desk, session=session, case_ids=[r.case_id for _, r in pending]
        )
        return [(c, replace(r, tasks=found.get(r.case_id, ()))) for c, r in pending]

    def _slack_rows(self, session: Session, pending: Pending) -> None:
        """Outbox rows of kind `reminder`, queued together (a sweep can queue thousands)."""
        calls = [(case, reminder.dedupe_key, self._payload(reminder)) for case, reminder in pending]
        queue_slack_many(self.desk, session=session, kind="reminder", now=self.now, calls=calls)

    @staticmethod
    def _payload(reminder: Reminder) -> dict[str, Any]:
        return slack_payload(reminder, text=reminder_text(reminder, language=SECRETARIAT_LANGUAGE))

    def _to_requester(self, session: Session, case: Case, reminder: Reminder) -> None:
        channel = "mail"
        if not self.report.dry_run:
            received = local_date(case.received_at, tz=self.desk.tz, name="received_at")
            queued = queue_mail(
                self.desk,
                session=session,
                case=case,
                template="identity_reminder",
                to=code_address(session, case),
                now=self.now,
                dedupe_key=reminder.dedupe_key,
                context={
                    "received": long_date(received, case.language),
                    "kind_words": plain_words(case.category, case.language),
                },
                automatic=True,
            )
            channel = "mail" if queued else "held_back"
        self._note(reminder, to="requester", channel=channel)

    def _note(self, reminder: Reminder, *, to: str, channel: str) -> None:
        self.report.reminders.append(
            Queued(reminder.reference, reminder.step.name, reminder.due, to, channel)
        )
        logger.debug("case=%s reminder %s via %s", reminder.reference, reminder.step.name, channel)

    def tasks(self) -> None:
        """One reminder mail to each processor or recipient whose answer date passed."""
        with self.desk.transaction() as session:
            self.report.task_reminders = remind_contacts(
                self.desk,
                session=session,
                today=self.today,
                now=self.now,
                dry_run=self.report.dry_run,
            )

    def reviews(self) -> None:
        """Mail waiting for review longer than one working day: once per item per working day
        in the channel (the legal month of a request may already be running)."""
        with self.desk.transaction() as session:
            self.report.review_reminders = queue_review_reminders(
                self.desk,
                session=session,
                today=self.today,
                now=self.now,
                dry_run=self.report.dry_run,
            )

    def breaches(self) -> None:
        """Alerts of open breaches at 24, 48, 60, 68 and every hour from 72 hours on."""
        with self.desk.transaction() as session:
            self.report.breach_alerts = escalate(
                self.desk, session=session, now=self.now, dry_run=self.report.dry_run
            )

    def digest(self) -> None:
        """Once per working day from DSR_DIGEST_TIME, and only when there is work to show."""
        local = self.now.astimezone(self.desk.tz)
        if not self.desk.calendar.is_working_day(self.today):
            return
        if local.time() < self.desk.settings.digest_time:
            return
        with self.desk.transaction() as session:
            found = queue_digest(
                self.desk,
                session=session,
                today=self.today,
                now=self.now,
                dry_run=self.report.dry_run,
            )
        self.report.digest = found.counts() if found else None

"""Reminder rules (pure): the ladder of steps around a deadline, which step is due today,
what a reminder says, and whether a queued reminder is still wanted when it is delivered.

Steps are keyed by the due date they were made for, so an extension (a new due date) starts a
fresh ladder by itself. The clock comes in as `today` (a local date).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from bot.calendar_nl import DutchCalendar
from bot.categories import short_name
from bot.settings import Settings
from bot.states import CLOSED, State
from bot.task_lines import OpenTask, task_line
from bot.wording import long_date
from storage.models import Breach, Case, OutboxItem, Task
from storage.outbox import DROPPED, mark_final

SECRETARIAT_LANGUAGE = "nl"
DEADLINE, IDENTITY = "deadline", "identity"
DUE_STEP, OVERDUE_PREFIX = "due", "overdue-"
IDENTITY_REMINDER, IDENTITY_GIVE_UP = "identity-reminder", "identity-give-up"
KEY_PREFIX = "reminder:"

# Rank orders the steps of one ladder when two fall on the same day.
_RANK_DAYS, _RANK_WORKING_DAYS, _RANK_DUE, _RANK_OVERDUE = 0, 1, 2, 3


@dataclass(frozen=True)
class Policy:
    days_before: int = 7
    working_days_before: int = 3
    identity_working_days: int = 3
    identity_give_up_days: int = 14

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            days_before=settings.reminder_days_before,
            working_days_before=settings.reminder_working_days_before,
            identity_working_days=settings.identity_reminder_working_days,
            identity_give_up_days=settings.identity_give_up_days,
        )

    def horizon(self, today: date, calendar: DutchCalendar) -> date:
        """The latest due date for which a ladder step can apply today."""
        by_working_days = calendar.add_working_days(today, self.working_days_before)
        return max(today + timedelta(days=self.days_before), by_working_days)


@dataclass(frozen=True, order=True)
class Step:
    day: date
    rank: int
    name: str


def latest_step(
    *, due: date, extended: bool, today: date, policy: Policy, calendar: DutchCalendar
) -> Step | None:
    """The last ladder step whose day has come (missed earlier steps are not caught up)."""
    if today > due:
        # Every working day while overdue; on a weekend the latest working day counts.
        day = today if calendar.is_working_day(today) else calendar.add_working_days(today, -1)
        if day > due:
            return Step(day, _RANK_OVERDUE, f"{OVERDUE_PREFIX}{day.isoformat()}")
        return Step(due, _RANK_DUE, DUE_STEP)
    if today == due:
        return Step(due, _RANK_DUE, DUE_STEP)
    by_working_days = calendar.add_working_days(due, -policy.working_days_before)
    if today >= by_working_days:
        return Step(by_working_days, _RANK_WORKING_DAYS, f"t-{policy.working_days_before}wd")
    by_days = due - timedelta(days=policy.days_before)
    # The extension question only makes sense while an extension is still possible.
    if not extended and today >= by_days:
        return Step(by_days, _RANK_DAYS, f"t-{policy.days_before}")
    return None


def parse_step(name: str, *, due: date, calendar: DutchCalendar) -> Step | None:
    """The step a recorded name stands for; None for names outside the deadline ladder."""
    if name == DUE_STEP:
        return Step(due, _RANK_DUE, name)
    if name.startswith(OVERDUE_PREFIX):
        return Step(date.fromisoformat(name.removeprefix(OVERDUE_PREFIX)), _RANK_OVERDUE, name)
    count = name.removeprefix("t-")
    if count.endswith("wd") and count[:-2].isdigit():
        return Step(calendar.add_working_days(due, -int(count[:-2])), _RANK_WORKING_DAYS, name)
    if name.startswith("t-") and count.isdigit():
        return Step(due - timedelta(days=int(count)), _RANK_DAYS, name)
    return None


def next_deadline_step(
    *,
    due: date,
    extended: bool,
    today: date,
    sent: Collection[str],
    policy: Policy,
    calendar: DutchCalendar,
) -> Step | None:
    """The step to send now, given the steps already recorded for this case and due date.

    Nothing when the latest step was sent, or when a later one was (a clock that jumped back).
    """
    step = latest_step(due=due, extended=extended, today=today, policy=policy, calendar=calendar)
    if step is None or step.name in sent:
        return None
    recorded = (parse_step(name, due=due, calendar=calendar) for name in sent)
    if any(done is not None and done > step for done in recorded):
        return None
    return step


def next_identity_step(
    *,
    received_on: date,
    today: date,
    sent: Collection[str],
    can_mail_requester: bool,
    policy: Policy,
    calendar: DutchCalendar,
) -> Step | None:
    """One reminder to the requester, then one question to the secretariat; each once."""
    give_up_day = received_on + timedelta(days=policy.identity_give_up_days)
    if today >= give_up_day:
        return None if IDENTITY_GIVE_UP in sent else Step(give_up_day, 1, IDENTITY_GIVE_UP)
    reminder_day = calendar.add_working_days(received_on, policy.identity_working_days)
    if today < reminder_day or IDENTITY_REMINDER in sent or not can_mail_requester:
        return None
    return Step(reminder_day, 0, IDENTITY_REMINDER)


@dataclass(frozen=True)
class Reminder:
    """One reminder to the secretariat, with everything its text needs."""

    case_id: int
    reference: str
    category: str
    state: str
    assignee: str | None
    due: date
    extended: bool
    step: Step
    purpose: str
    days_left: int
    action: str
    # The case's open tasks , named in the reminder.
    tasks: tuple[OpenTask, ...] = ()

    @property
    def dedupe_key(self) -> str:
        return reminder_key(
            purpose=self.purpose,
            case_id=self.case_id,
            step=self.step.name,
            due=self.due,
            state=self.state,
        )


def make_reminder(case: Case, *, step: Step, purpose: str, today: date) -> Reminder:
    due = case.extended_due or case.due
    return Reminder(
        case_id=case.id or 0,
        reference=case.reference,
        category=case.category,
        state=case.state,
        assignee=case.assignee,
        due=case.due if purpose == IDENTITY else due,
        extended=case.extended_due is not None,
        step=step,
        purpose=purpose,
        days_left=(due - today).days,
        action=next_action(case, step=step, purpose=purpose),
    )


def next_action(case: Case, *, step: Step, purpose: str) -> str:
    """The one thing to do next, as a key into ACTIONS."""
    if purpose == IDENTITY:
        return "close_unverified"
    if step.rank == _RANK_DAYS:
        return "decide_extension"
    if case.state == State.AWAITING_IDENTITY:
        return "verify"
    if case.needs_triage or case.state == State.NEEDS_TRIAGE:
        return "triage"
    if not case.assignee:
        return "assign"
    return "answer_overdue" if step.rank == _RANK_OVERDUE else "answer"


# --- what a reminder carries to the delivery workers --------------------------------------


def reminder_key(*, purpose: str, case_id: int, step: str, due: date, state: str) -> str:
    """Outbox dedupe key; it also carries what the reminder was made for (see below)."""
    return f"{KEY_PREFIX}{purpose}:{case_id}:{step}:{due.isoformat()}:{state}"


def payload_from_key(dedupe_key: str) -> dict[str, str] | None:
    """The `purpose`, `step`, `due` and `state` in a reminder's dedupe key; None otherwise."""
    if not dedupe_key.startswith(KEY_PREFIX):
        return None
    parts = dedupe_key.removeprefix(KEY_PREFIX).split(":")
    if len(parts) != 5:
        return None
    purpose, _case_id, step, due, state = parts
    return {"purpose": purpose, "step": step, "due": due, "state": state}


def slack_payload(reminder: Reminder, *, text: str) -> dict[str, Any]:
    """Payload of an outbox row of kind `reminder` (queue_slack adds `reference`)."""
    return {
        "text": text,
        "dm_user": reminder.assignee or None,
        "broadcast": not (reminder.assignee or "").startswith("slack:"),
        "purpose": reminder.purpose,
        "step": reminder.step.name,
        "due": reminder.due.isoformat(),
        "state": reminder.state,
    }


def reminder_still_wanted(case: Case | None, payload: Mapping[str, Any]) -> bool:
    """Delivery workers call this before sending a reminder; False: mark it `dropped`.

    Dropped: the case is gone or closed; an identity reminder once the case left
    `awaiting_identity`; a deadline reminder whose due date moved (extension).
    """
    if case is None or case.state in CLOSED:
        return False
    if payload.get("purpose") == IDENTITY:
        return case.state == State.AWAITING_IDENTITY and case.verified_at is None
    return (case.extended_due or case.due).isoformat() == payload.get("due")


# --- words ------------------------------------------------------------------------------


ACTIONS: dict[str, dict[str, str]] = {
    "nl": {
        "decide_extension": "beslis nu of verlenging nodig is: na de termijn van {due} is "
        "verlengen niet meer toegestaan (/dsr extend {reference} met de redenen).",
        "verify": "bevestig de identiteit van de verzoeker (/dsr verify {reference}), "
        "of sluit de zaak als geweigerd.",
        "triage": "bepaal de soort verzoek (/dsr kind {reference} SOORT).",
        "assign": "wijs een behandelaar toe (/dsr assign {reference} @naam).",
        "answer": "stuur het antwoord aan de verzoeker en sluit de zaak "
        "(/dsr close {reference} done).",
        "answer_overdue": "de termijn is verstreken: stuur vandaag nog het antwoord en sluit "
        "de zaak (/dsr close {reference} done).",
        "close_unverified": "de verzoeker heeft de identiteit niet bevestigd. Sluit de zaak "
        "als geweigerd omdat de identiteit niet vast te stellen is "
        "(/dsr close {reference} refused), of bevestig de identiteit handmatig.",
    },
    "en": {
        "decide_extension": "decide now whether an extension is needed: after the deadline of "
        "{due} it is no longer allowed (/dsr extend {reference} with the reasons).",
        "verify": "confirm the requester's identity (/dsr verify {reference}), "
        "or close the case as refused.",
        "triage": "pick the kind of request (/dsr kind {reference} KIND).",
        "assign": "assign someone to the case (/dsr assign {reference} @name).",
        "answer": "send the answer to the requester and close the case "
        "(/dsr close {reference} done).",
        "answer_overdue": "the deadline has passed: send the answer today and close the case "
        "(/dsr close {reference} done).",
        "close_unverified": "the requester has not confirmed their identity. Close the case as "
        "refused because the identity cannot be established "
        "(/dsr close {reference} refused), or verify it by hand.",
    },
}


def _lang(language: str) -> str:
    return language if language in ACTIONS else SECRETARIAT_LANGUAGE


def days_words(days_left: int, language: str) -> str:
    """`nog 3 dagen` / `vandaag` / `2 dagen te laat`, and the English equivalents."""
    if _lang(language) == "nl":
        if days_left == 0:
            return "vandaag de laatste dag"
        count, late = abs(days_left), days_left < 0
        unit = "dag" if count == 1 else "dagen"
        return f"{count} {unit} te laat" if late else f"nog {count} {unit}"
    if days_left == 0:
        return "due today"
    count = abs(days_left)
    unit = "day" if count == 1 else "days"
    return f"{count} {unit} overdue" if days_left < 0 else f"{count} {unit} left"


def context(reminder: Reminder, *, language: str) -> dict[str, Any]:
    """Template context of reminder_secretariat, and the parts of the Slack text."""
    lang = _lang(language)
    due = long_date(reminder.due, lang)
    return {
        "reference": reminder.reference,
        "kind_words": short_name(reminder.category, lang),
        "due": due,
        "extended": reminder.extended,
        "days_text": days_words(reminder.days_left, lang),
        "overdue": reminder.days_left < 0,
        "assignee": reminder.assignee,
        "identity": reminder.purpose == IDENTITY,
        "action": ACTIONS[lang][reminder.action].format(reference=reminder.reference, due=due),
        "tasks": [task_line(t, language=lang, slack=False) for t in reminder.tasks],
    }


def reminder_text(reminder: Reminder, *, language: str = SECRETARIAT_LANGUAGE) -> str:
    """The Slack text: reference, kind, due date, days left or overdue, and the next action."""
    values = context(reminder, language=language)
    nl = _lang(language) == "nl"
    head = "Herinnering" if nl else "Reminder"
    if reminder.purpose == IDENTITY:
        head = "Identiteit niet bevestigd" if nl else "Identity not confirmed"
    deadline = "termijn" if nl else "deadline"
    following = "Volgende stap" if nl else "Next step"
    text = (
        f"*{head} {values['reference']}* ({values['kind_words']}): {deadline} "
        f"{values['due']}, {values['days_text']}.\n{following}: {values['action']}"
    )
    if reminder.tasks:
        lines = [task_line(t, language=_lang(language), slack=True) for t in reminder.tasks]
        text += f"\n{'Open taken' if nl else 'Open tasks'}:\n" + "\n".join(f"• {x}" for x in lines)
    return text


TASK_REMINDER_PREFIX = "mail:task-reminder:"
"""Dedupe key of a processor's task reminder (bot.task_mail): `mail:task-reminder:ID:DATE`."""
BREACH_ALERT_PREFIX = "breach:"
"""Dedupe key of a breach alert (bot.breach_alerts): `breach:ID:STEP:AWARE_AT:TARGET`."""


def drop_stale_reminders(*, session: Session, items: Sequence[OutboxItem]) -> list[OutboxItem]:
    """Claimed outbox rows minus reminders no longer wanted, which are marked `dropped`.

    Both delivery workers (mail and Slack) call this on what they claimed, in the claim's
    transaction, so a reminder for a case closed or extended since is never sent.
    """
    keep: list[OutboxItem] = []
    for item in items:
        why = _stale(session, item)
        if why:
            mark_final(session=session, item_id=item.id or 0, state=DROPPED, error=why)
            continue
        keep.append(item)
    return keep


def _stale(session: Session, item: OutboxItem) -> str | None:
    """Why a claimed reminder is no longer wanted; None to send it. Deadline and identity
    reminders follow their case; a processor's task reminder its task; a breach alert after
    the opening one its breach's decision."""
    key = item.dedupe_key
    facts = payload_from_key(key)
    if facts is not None:
        case = session.get(Case, item.case_id) if item.case_id else None
        if not reminder_still_wanted(case, facts):
            return "reminder no longer wanted: the case changed since it was queued"
        return None
    if key.startswith(TASK_REMINDER_PREFIX):
        task = session.get(Task, int(key.removeprefix(TASK_REMINDER_PREFIX).split(":")[0]))
        if task is None or task.state != "open":
            return "reminder no longer wanted: the task was answered since it was queued"
        return None
    if key.startswith(BREACH_ALERT_PREFIX):
        parts = key.removeprefix(BREACH_ALERT_PREFIX).split(":")
        breach = session.get(Breach, int(parts[0]))
        if parts[1] != "opened" and (breach is None or breach.decided_at is not None):
            return "alert no longer wanted: the breach was decided since it was queued"
    return None

"""Alerts of an open breach: when it is opened, at 24, 48, 60 and 68 hours after `aware_at`,
and every hour from 72 hours on, until a decision is recorded. Each goes to the secretariat's
Slack channel, as a direct message to the privacy owner (`DSR_PRIVACY_OWNER=slack:U…`), and by
mail to the privacy owner (a mail address) or else the secretariat address.

Exactly once across restarts and instances: each step is recorded in `breach_escalation` in
the transaction that queues it (ON CONFLICT DO NOTHING, like the reminders' `reminder_sent`),
and the sweep runs under the reminders' sweep lock. Only the latest step whose hour has come is
sent; a sweep that was down for a day does not send the ones it missed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.breach_facts import LABELS, missing
from bot.breaches import OPEN, due_of, facts_of
from bot.desk import Desk
from bot.outbox import queue_mail, queue_slack
from bot.reminders import BREACH_ALERT_PREFIX
from bot.wording import long_date
from storage.breaches import escalated_steps, list_breaches, record_escalations
from storage.models import Breach

HOURS = (24, 48, 60, 68)
OPENED = "opened"
LANGUAGE = "nl"
BREACH_POSTED = "breach_posted"
"""Slack outbox kind of a new breach's channel message (checklist and buttons)."""


@dataclass(frozen=True)
class Step:
    name: str
    hour: int  # hours after aware_at; 0 for the opening alert


def latest_step(*, aware_at: datetime, now: datetime) -> Step | None:
    """The last step whose hour has come: h24, h48, h60, h68, then h72, h73, ... (hourly)."""
    elapsed = (now - aware_at).total_seconds() / 3600
    if elapsed >= 72:
        hour = math.floor(elapsed)
        return Step(f"h{hour}", hour)
    passed = [h for h in HOURS if elapsed >= h]
    return Step(f"h{passed[-1]}", passed[-1]) if passed else None


def next_step(*, aware_at: datetime, now: datetime, sent: set[str]) -> Step | None:
    """The step to send now: none when it (or a later one: a clock that jumped back) was."""
    step = latest_step(aware_at=aware_at, now=now)
    if step is None or step.name in sent:
        return None
    if any(name.startswith("h") and int(name[1:]) > step.hour for name in sent):
        return None
    return step


def _hours_words(hours: float) -> str:
    if hours >= 1:
        return f"nog {math.floor(hours)} uur tot de meldtermijn"
    if hours > -1:
        return "de meldtermijn verloopt nu"
    return f"de meldtermijn is {math.floor(-hours)} uur verstreken"


def alert_context(breach: Breach, *, desk: Desk, now: datetime, step: str) -> dict[str, Any]:
    """Template context of breach_alert and the parts of the Slack text (Dutch)."""
    due = due_of(breach).astimezone(desk.tz)
    hours_left = (due_of(breach) - now).total_seconds() / 3600
    gaps = missing(facts_of(breach))
    return {
        "reference": breach.reference,
        "opened": step == OPENED,
        "overdue": hours_left <= 0,
        "hours_text": _hours_words(hours_left),
        "due": f"{long_date(due.date(), LANGUAGE)} {due:%H:%M}",
        "aware": breach.aware_at.astimezone(desk.tz).strftime("%d-%m-%Y %H:%M"),
        "processor": breach.processor or "",
        "missing": [LABELS[LANGUAGE][item] for item in gaps],
        "command": f"dsr breaches decide {breach.reference} --ap ja|nee --subjects ja|nee "
        "--reasons '...'",
    }


def alert_text(values: dict[str, Any]) -> str:
    """The Slack text: reference, deadline in Amsterdam time, hours left, what is missing."""
    head = "Nieuw datalek" if values["opened"] else "Datalek"
    lines = [
        f"*{head} {values['reference']}*: {values['hours_text']} ({values['due']}).",
    ]
    if values["processor"]:
        lines.append(f"Gemeld door verwerker: {values['processor']}.")
    if values["missing"]:
        lines.append(f"Ontbreekt nog: {len(values['missing'])} punten van de checklist.")
    step = (
        "meld nu bij de AP en leg de reden van de vertraging vast"
        if values["overdue"]
        else ("beoordeel het risico en beslis over melding aan de AP en de betrokkenen")
    )
    lines.append(f"Volgende stap: {step} ({values['command']}).")
    return "\n".join(lines)


def _queue(desk: Desk, session: Session, breach: Breach, step: Step, now: datetime) -> None:
    settings = desk.settings
    values = alert_context(breach, desk=desk, now=now, step=step.name)
    key = f"{BREACH_ALERT_PREFIX}{breach.id}:{step.name}:{breach.aware_at.isoformat()}"
    text = alert_text(values)
    queue_slack(
        desk,
        session=session,
        case=None,
        kind=BREACH_POSTED if step.name == OPENED else "dm",
        dedupe_key=f"{key}:channel",
        now=now,
        payload={"text": text, "reference": breach.reference},
    )
    owner = settings.privacy_owner.strip()
    if owner.startswith("slack:"):
        queue_slack(
            desk,
            session=session,
            case=None,
            kind="dm",
            dedupe_key=f"{key}:owner",
            now=now,
            payload={
                "text": text,
                "user": owner.removeprefix("slack:"),
                "reference": breach.reference,
            },
        )
    queue_mail(
        desk,
        session=session,
        case=None,
        template="breach_alert",
        to=owner if "@" in owner else settings.alert_address,
        now=now,
        context=values,
        dedupe_key=f"{key}:mail",
        automatic=False,
        language=LANGUAGE,
    )


def alert_opened(desk: Desk, *, session: Session, breach: Breach, now: datetime) -> None:
    """The opening alert, recorded as step `opened` in the breach's own transaction."""
    won = record_escalations(
        session=session, steps=[(breach.id or 0, OPENED, breach.aware_at)], at=now
    )
    if won:
        _queue(desk, session, breach, Step(OPENED, 0), now)


def escalate(desk: Desk, *, session: Session, now: datetime, dry_run: bool) -> list[str]:
    """One sweep over the open breaches; the `reference:step` of each alert queued."""
    breaches = list_breaches(session=session, states=(OPEN,))
    sent = escalated_steps(session=session, breach_ids=[b.id or 0 for b in breaches])
    pending: list[tuple[Breach, Step]] = []
    for breach in breaches:
        names = {name for name, due in sent[breach.id or 0] if due == breach.aware_at}
        step = next_step(aware_at=breach.aware_at, now=now, sent=names)
        if step is not None:
            pending.append((breach, step))
    if dry_run:
        return [f"{b.reference}:{s.name}" for b, s in pending]
    won = record_escalations(
        session=session, steps=[(b.id or 0, s.name, b.aware_at) for b, s in pending], at=now
    )
    done = []
    for breach, step in pending:
        if (breach.id, step.name) in won:
            _queue(desk, session, breach, step, now)
            done.append(f"{breach.reference}:{step.name}")
    return done


def open_breach_lines(desk: Desk, *, session: Session) -> tuple[tuple[str, str], ...]:
    """The open breaches for the digest: reference and AP deadline (Amsterdam time)."""
    lines = []
    for breach in list_breaches(session=session, states=(OPEN,)):
        due = due_of(breach).astimezone(desk.tz)
        lines.append((breach.reference, f"{long_date(due.date(), LANGUAGE)} {due:%H:%M}"))
    return tuple(lines)

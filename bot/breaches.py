"""The breach track: a personal data breach's record, its 72-hour clock, its checklist and the
decisions (GDPR art. 33 and 34). One function per action, shared by the terminal and Slack.

The clock runs from `aware_at`, the moment the firm became aware (the notice's receipt by
default; a person may set it with a reason), in elapsed hours: the AP must be notified within
72 hours of it, weekends and holidays included. Every change is audited; the reporter, the
facts and every text a person typed are sealed at rest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.breach_facts import ITEMS, YES_NO, Fact, missing
from bot.desk import Desk
from bot.inventory import InventoryError
from bot.inventory_source import inventory_source
from bot.privacy import mask_address, normalise_address
from storage.audit import append_event
from storage.breaches import (
    add_update,
    allocate_breach_reference,
    get_breach,
    list_breaches,
    list_updates,
    lock_breach,
)
from storage.models import Breach

logger = logging.getLogger("dsr.breaches")
CLOCK = timedelta(hours=72)
OPEN, DECIDED = "open", "decided"
TEXT_LIMIT = 4000
PERSON_FIELDS = frozenset({"aware_at", "processor", "reporter", "reporter_name", "update"})
FIELDS = (*ITEMS, *sorted(PERSON_FIELDS), "ap_number")


class UnknownBreach(LookupError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"unknown breach {reference}; see dsr breaches list")


class BreachRefused(ValueError):
    """The action is not possible for this breach as it is now; the message says why."""


def due_of(breach: Breach) -> datetime:
    return breach.aware_at + CLOCK


def facts_of(breach: Breach) -> dict[str, dict[str, str]]:
    return dict(breach.facts or {})


def fill(
    facts: Mapping[str, Any], found: Mapping[str, Fact], *, source: str, overwrite: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """`facts` with the items of `found` added (only the unknown ones unless `overwrite`);
    also the items that changed."""
    merged = dict(facts)
    changed = []
    for item, fact in found.items():
        if item in ITEMS and (overwrite or not merged.get(item)) and fact.value.strip():
            merged[item] = {"value": fact.value[:TEXT_LIMIT], "source": source}
            changed.append(item)
    return merged, changed


def match_processor(desk: Desk, address: str) -> str | None:
    """The inventory system whose contact is `address`, else whose contact shares its domain."""
    try:
        inventory = inventory_source(desk.settings.inventory_file).current()
    except (InventoryError, OSError):
        return None
    if inventory is None or "@" not in address:
        return None
    wanted = normalise_address(address)
    domain = wanted.rsplit("@", 1)[1]
    contacts = [(s.id, normalise_address(s.contact)) for s in inventory.system if s.contact]
    exact = next((sid for sid, contact in contacts if contact == wanted), None)
    if exact is not None:
        return exact
    return next((sid for sid, contact in contacts if contact.rsplit("@", 1)[1] == domain), None)


@dataclass(frozen=True)
class NewBreach:
    reporter: str
    reporter_name: str
    received_at: datetime
    source: str  # mail | phone
    language: str = "nl"
    facts: Mapping[str, Fact] | None = None
    aware_at: datetime | None = None
    aware_reason: str | None = None
    message_row_id: int | None = None


def open_breach(
    desk: Desk, *, session: Session, new: NewBreach, actor: str, now: datetime
) -> Breach:
    """Record a breach in the caller's transaction, with its clock and first alert."""
    from bot.breach_alerts import alert_opened  # the alerts read this module's rules

    year = new.received_at.astimezone(desk.tz).year
    facts, _ = fill({}, new.facts or {}, source=new.source)
    breach = Breach(
        reference=allocate_breach_reference(session=session, year=year),
        state=OPEN,
        source=new.source,
        language=new.language if new.language in ("nl", "en") else "nl",
        reporter=new.reporter,
        reporter_name=new.reporter_name,
        processor=match_processor(desk, new.reporter) if new.reporter else None,
        message_id=new.message_row_id,
        received_at=new.received_at,
        aware_at=new.aware_at or new.received_at,
        facts=facts,
        created_at=now,
        updated_at=now,
    )
    session.add(breach)
    session.flush()
    append_event(
        session=session,
        at=now,
        actor=actor,
        action="breach_opened",
        reference=breach.reference,
        details={
            "source": new.source,
            "processor": breach.processor,
            "aware_at": breach.aware_at.isoformat(),
            "missing": missing(facts),
        },
        note=new.aware_reason,
    )
    alert_opened(desk, session=session, breach=breach, now=now)
    logger.info("breach=%s opened source=%s", breach.reference, new.source)
    return breach


def report_breach(
    desk: Desk,
    *,
    reporter: str,
    reporter_name: str,
    items: Mapping[str, str],
    language: str,
    aware_at: datetime | None,
    reason: str | None,
    actor: str,
    now: datetime,
) -> str:
    """A breach reported by phone (the terminal's `new`, Slack's `/dsr datalek` form): the
    clock runs from now unless `aware_at` is given with a reason. Its reference."""
    if not reporter.strip():
        raise BreachRefused("say who reported the breach (a name or a mail address)")
    if aware_at is not None and not (reason or "").strip():
        raise BreachRefused("an earlier aware_at needs a reason")
    facts = {
        item: Fact(yes_no(item, value) if item in YES_NO else value.strip()[:TEXT_LIMIT], value)
        for item, value in items.items()
        if item in ITEMS and value and value.strip()
    }
    address, name = reporter.strip(), reporter_name.strip()
    if "@" not in address:  # a name given on the phone, no address to write to
        address, name = "", name or address
    with desk.transaction() as session:
        breach = open_breach(
            desk,
            session=session,
            new=NewBreach(
                reporter=address,
                reporter_name=name,
                received_at=now,
                source="phone",
                language=language,
                facts=facts,
                aware_at=aware_at,
                aware_reason=(reason or "").strip() or None,
            ),
            actor=actor,
            now=now,
        )
        return breach.reference


def _locked(session: Session, reference: str) -> Breach:
    breach = lock_breach(session=session, reference=reference.strip())
    if breach is None:
        raise UnknownBreach(reference)
    return breach


def _touch(breach: Breach, now: datetime) -> None:
    breach.updated_at = now
    breach.version += 1


def yes_no(item: str, value: str) -> str:
    word = value.strip().lower()
    if word in ("ja", "yes", "y", "j"):
        return "yes"
    if word in ("nee", "no", "n"):
        return "no"
    raise BreachRefused(f"{item} takes yes or no (ja/nee), not {value!r}")


def update_field(
    desk: Desk,
    *,
    reference: str,
    field: str,
    value: str,
    reason: str | None,
    actor: str,
    now: datetime,
) -> Breach:
    """Set one checklist item or fact of the record; `aware_at` needs a reason; `update`
    appends a later update to the notification (the log is never rewritten)."""
    text = value.strip()[:TEXT_LIMIT]
    if field not in FIELDS:
        raise BreachRefused(f"unknown field {field!r}; one of: {', '.join(FIELDS)}")
    if not text:
        raise BreachRefused(f"{field} needs a value")
    with desk.transaction() as session:
        breach = _locked(session, reference)
        details: dict[str, Any] = {"field": field}
        note: str | None = text
        if field == "aware_at":
            if not (reason or "").strip():
                raise BreachRefused("changing aware_at needs a reason (--reason)")
            moment = _moment(text, desk.tz)
            details["from"], details["to"] = breach.aware_at.isoformat(), moment.isoformat()
            breach.aware_at, note = moment, (reason or "").strip()[:TEXT_LIMIT]
        elif field == "update":
            add_update(session=session, breach_id=breach.id or 0, at=now, actor=actor, note=text)
        elif field == "ap_number":
            breach.ap_number, note = text[:64], None
        elif field == "processor":
            breach.processor, note = text[:64], None
        elif field in ("reporter", "reporter_name"):
            setattr(breach, field, text)
        else:
            stored = yes_no(field, text) if field in YES_NO else text
            breach.facts = {**facts_of(breach), field: {"value": stored, "source": "person"}}
        _touch(breach, now)
        session.add(breach)
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="breach_updated",
            reference=breach.reference,
            details=details,
            note=note,
        )
        return breach


def _moment(value: str, tz: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BreachRefused(
            f"{value!r} is not an ISO 8601 moment; write e.g. 2026-03-02T10:30:00+01:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


@dataclass(frozen=True)
class Decision:
    ap: bool
    subjects: bool
    reasons: str
    ap_number: str | None = None
    subjects_reasons: str | None = None


def decide(desk: Desk, *, reference: str, decision: Decision, actor: str, now: datetime) -> Breach:
    """Record whether the AP is notified and whether the people are told, with the risk
    assessment in words (required either way: art. 33(5) documents a breach not notified)."""
    reasons = decision.reasons.strip()[:TEXT_LIMIT]
    if len(reasons) < 10:
        raise BreachRefused("write the risk assessment and reasons in words (--reasons)")
    if not decision.ap and decision.ap_number:
        raise BreachRefused("an AP number (meldingsnummer) only goes with --ap yes")
    with desk.transaction() as session:
        breach = _locked(session, reference)
        first = breach.state == OPEN
        breach.ap_notified, breach.subjects_told = decision.ap, decision.subjects
        told = (decision.subjects_reasons or "").strip()[:TEXT_LIMIT]
        breach.risk, breach.subjects_reasons = reasons, told or reasons
        if decision.ap_number:
            breach.ap_number = decision.ap_number.strip()[:64]
        breach.state, breach.decided_at, breach.decided_by = DECIDED, now, actor
        _touch(breach, now)
        session.add(breach)
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="breach_decided" if first else "breach_decision_changed",
            reference=breach.reference,
            details={
                "ap": decision.ap,
                "subjects": decision.subjects,
                "ap_number": breach.ap_number,
                "hours_since_aware": round((now - breach.aware_at).total_seconds() / 3600, 1),
            },
            note=reasons,
        )
        return breach


def get(desk: Desk, *, reference: str) -> Breach:
    with desk.reading() as session:
        breach = get_breach(session=session, reference=reference.strip())
        if breach is None:
            raise UnknownBreach(reference)
        return breach


def all_breaches(desk: Desk, *, open_only: bool = False) -> list[Breach]:
    with desk.reading() as session:
        return list(list_breaches(session=session, states=(OPEN,) if open_only else None))


def summary(breach: Breach, *, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """`dsr breaches list --json`: one breach, the reporter masked."""
    due = due_of(breach)
    decision = None
    if breach.state == DECIDED:
        decision = {
            "ap": breach.ap_notified,
            "ap_number": breach.ap_number,
            "subjects": breach.subjects_told,
            "decided_at": breach.decided_at.astimezone(tz).isoformat()
            if breach.decided_at
            else None,
            "decided_by": breach.decided_by,
        }
    return {
        "reference": breach.reference,
        "state": breach.state,
        "source": breach.source,
        "reporter": mask_address(breach.reporter) if breach.reporter else "",
        "processor": breach.processor,
        "received_at": breach.received_at.astimezone(tz).isoformat(),
        "aware_at": breach.aware_at.astimezone(tz).isoformat(),
        "due": due.astimezone(tz).isoformat(),
        "hours_left": round((due - now).total_seconds() / 3600, 1),
        "missing": missing(facts_of(breach)),
        "decision": decision,
    }


def detail(desk: Desk, breach: Breach, *, now: datetime) -> dict[str, Any]:
    """`dsr breaches show --json`: the summary, the checklist, the reasons and the updates."""
    with desk.reading() as session:
        updates = list_updates(session=session, breach_id=breach.id or 0)
        logged = [
            {"at": u.at.astimezone(desk.tz).isoformat(), "by": u.actor, "text": u.text}
            for u in updates
        ]
    facts = facts_of(breach)
    return {
        **summary(breach, tz=desk.tz, now=now),
        "checklist": {
            item: {"value": facts[item]["value"], "source": facts[item]["source"]}
            if facts.get(item)
            else None
            for item in ITEMS
        },
        "requests_sent": breach.requests_sent,
        "risk": breach.risk,
        "updates": logged,
    }

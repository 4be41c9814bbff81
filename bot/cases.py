"""The triage actions, one function each, shared by Slack and the terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.categories import check_kind
from bot.deadline import compute_deadline, ensure_extension_allowed
from bot.desk import Desk
from bot.download_offer import offer_download
from bot.fulfilment import TRIGGERS, TasksOpen, plan_case_tasks, settle_tasks
from bot.lookup import person_key
from bot.notices import queue_extension_notice, queue_outcome
from bot.outbox import queue_slack
from bot.states import ACTIVE, CLOSED, State, check_transition
from storage.audit import append_event
from storage.cases import add_case, find_cases, get_case_by_reference, lock_case
from storage.models import Case
from storage.references import allocate_reference


class UnknownCase(LookupError):
    """`listing` is how the reader lists cases: Slack's `/dsr list` unless the caller (the
    terminal: `dsr cases list`) says otherwise."""

    def __init__(self, reference: str, *, listing: str = "/dsr list") -> None:
        super().__init__(f"unknown case {reference}; see the list of cases ({listing})")
        self.reference = reference


class ActionRefused(ValueError):
    """The action is not possible for this case as it is now; the message says why."""


@dataclass(frozen=True)
class NewCase:
    requester: str
    received_at: datetime
    category: str
    also: tuple[str, ...] = ()
    confidence: float = 1.0
    needs_triage: bool = False
    evidence: tuple[str, ...] = ()
    language: str = "nl"
    flags: tuple[str, ...] = ()


def open_case(desk: Desk, *, session: Session, new: NewCase, now: datetime) -> Case:
    """Open a case in the caller's transaction: reference, deadline, first audit event."""
    deadline = compute_deadline(
        received=new.received_at, tz=desk.tz, calendar=desk.calendar, identity_clock="no_wait"
    )
    reference = allocate_reference(session=session, year=deadline.received_on.year)
    case = Case(
        reference=reference,
        state=State.AWAITING_IDENTITY,
        category=new.category,
        also=list(new.also),
        confidence=new.confidence,
        needs_triage=new.needs_triage,
        evidence=list(new.evidence),
        language=new.language,
        requester=new.requester,
        requester_key=person_key(desk, new.requester),
        received_at=new.received_at,
        due=deadline.due,
        extended_due=None,
        flags=sorted(set(new.flags)),
        created_at=now,
        updated_at=now,
    )
    add_case(session=session, case=case)
    audit(
        session,
        case,
        now=now,
        actor="system",
        action="case_opened",
        details={
            "category": new.category,
            "needs_triage": new.needs_triage,
            "due": deadline.due.isoformat(),
        },
    )
    return case


def audit(
    session: Session,
    case: Case,
    *,
    now: datetime,
    actor: str,
    action: str,
    details: dict[str, object] | None = None,
) -> None:
    """A `note` in `details` is free text (how an identity was checked, why a case closed, so
    perhaps a passport number): it goes into the event's sealed note, which the purge clears."""
    facts = dict(details or {})
    note = facts.pop("note", None)
    append_event(
        session=session,
        at=now,
        actor=actor,
        action=action,
        case_id=case.id,
        reference=case.reference,
        details=facts,
        note=None if note is None else str(note),
    )


def get_case(desk: Desk, *, reference: str) -> Case:
    with desk.reading() as session:
        case = get_case_by_reference(session=session, reference=reference)
    if case is None:
        raise UnknownCase(reference)
    return case


def effective_due(case: Case) -> date:
    return case.extended_due or case.due


@dataclass(frozen=True)
class CaseQuery:
    """The list views: `dsr cases list` flags and `/dsr list` words map onto these."""

    state: str | None = None
    overdue: bool = False
    due_within_days: int | None = None
    triage: bool = False
    assignee: str | None = None
    include_closed: bool = False
    limit: int | None = None


def list_cases(desk: Desk, *, query: CaseQuery, now: datetime) -> Sequence[Case]:
    today = now.astimezone(desk.tz).date()
    states: set[str] | None = {str(s) for s in ACTIVE}
    if query.state is not None:
        states = {str(State(query.state))}
    elif query.include_closed:
        states = None
    with desk.reading() as session:
        return find_cases(
            session=session,
            states=states,
            due_before=today if query.overdue else None,
            due_on_or_before=(
                today + timedelta(days=query.due_within_days)
                if query.due_within_days is not None
                else None
            ),
            assignee=query.assignee,
            needs_triage=True if query.triage else None,
            limit=query.limit,
        )


def _change(
    desk: Desk,
    *,
    reference: str,
    now: datetime,
    actor: str,
    action: str,
    mutate: Callable[[Case], dict[str, object]],
    after: Callable[[Session, Case], None] | None = None,
) -> Case:
    """Lock, change, bump the version and audit the case in one transaction."""
    with desk.transaction() as session:
        case = lock_case(session=session, reference=reference)
        if case is None:
            raise UnknownCase(reference)
        details = mutate(case)
        record_change(
            desk, session=session, case=case, now=now, actor=actor, action=action, details=details
        )
        if after is not None:
            after(session, case)
        return case


def record_change(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    now: datetime,
    actor: str,
    action: str,
    details: dict[str, object],
) -> None:
    """The one way a case's change is recorded: bump the version, audit it, plan the work per
    system when the case is verified or its kind changes, and queue the update of its Slack
    message (in the caller's transaction, the case locked)."""
    case.version += 1
    case.updated_at = now
    session.add(case)
    audit(session, case, now=now, actor=actor, action=action, details=details)
    if action in TRIGGERS:
        plan_case_tasks(desk, session=session, case=case, now=now)
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="case_updated",
        dedupe_key=f"slack:update:{case.id}:{case.version}",
        now=now,
    )


def _require_active(case: Case) -> None:
    if case.state in CLOSED:
        raise ActionRefused(f"case {case.reference} is closed ({case.state}); nothing to change")


def _move(case: Case, wanted: State) -> dict[str, object]:
    before = case.state
    case.state = check_transition(case.reference, case.state, wanted)
    return {"from": before, "to": str(wanted)}


def assign(desk: Desk, *, reference: str, assignee: str, actor: str, now: datetime) -> Case:
    def mutate(case: Case) -> dict[str, object]:
        _require_active(case)
        before, case.assignee = case.assignee, assignee.strip() or None
        return {"from": before, "to": case.assignee}

    return _change(
        desk, reference=reference, now=now, actor=actor, action="assigned", mutate=mutate
    )


def change_kind(desk: Desk, *, reference: str, kind: str, actor: str, now: datetime) -> Case:
    new_kind = check_kind(kind)

    def mutate(case: Case) -> dict[str, object]:
        _require_active(case)
        details: dict[str, object] = {"from": case.category, "to": new_kind}
        case.category, case.needs_triage = new_kind, False
        case.also = [k for k in case.also if k != new_kind]
        if case.state == State.NEEDS_TRIAGE:
            details["state"] = _move(case, State.OPEN)
        return details

    return _change(
        desk, reference=reference, now=now, actor=actor, action="kind_changed", mutate=mutate
    )


def mark_verified(case: Case, *, now: datetime) -> dict[str, object]:
    """Record verification and move on: to triage when the kind is unsure, else open."""
    if case.verified_at is not None:
        raise ActionRefused(f"case {case.reference} is already verified")
    case.verified_at = now
    if case.state == State.AWAITING_IDENTITY:
        return _move(case, State.NEEDS_TRIAGE if case.needs_triage else State.OPEN)
    return {}


def verify_by_hand(desk: Desk, *, reference: str, note: str, actor: str, now: datetime) -> Case:
    if not note.strip():
        raise ActionRefused("verifying by hand needs a note saying how the identity was checked")

    def mutate(case: Case) -> dict[str, object]:
        _require_active(case)
        return {**mark_verified(case, now=now), "note": note.strip(), "how": "by_hand"}

    return _change(
        desk, reference=reference, now=now, actor=actor, action="verified", mutate=mutate
    )


def extend(desk: Desk, *, reference: str, reasons: str, actor: str, now: datetime) -> Case:
    if not reasons.strip():
        raise ActionRefused("an extension needs the reasons that the requester will be told")

    def mutate(case: Case) -> dict[str, object]:
        _require_active(case)
        if case.extended_due is not None:
            raise ActionRefused(
                f"case {case.reference} was already extended to {case.extended_due}; "
                "the law allows two further months in total"
            )
        ensure_extension_allowed(reference=case.reference, due=case.due, now=now, tz=desk.tz)
        deadline = compute_deadline(received=case.received_at, tz=desk.tz, calendar=desk.calendar)
        case.extended_due, case.extension_reason = deadline.extended_due, reasons.strip()
        return {**_move(case, State.EXTENDED), "extended_due": deadline.extended_due.isoformat()}

    def notify(session: Session, case: Case) -> None:
        queue_extension_notice(desk, session=session, case=case, now=now)

    return _change(
        desk,
        reference=reference,
        now=now,
        actor=actor,
        action="extended",
        mutate=mutate,
        after=notify,
    )


def close(
    desk: Desk,
    *,
    reference: str,
    outcome: str,
    note: str,
    actor: str,
    now: datetime,
    force: bool = False,
) -> Case:
    """Close a case. As done only when every system has answered (its tasks), unless `force`
    with the note saying why; the outcome mail then reports what was done where."""
    wanted = State(outcome) if outcome in {s.value for s in CLOSED} else None
    if wanted is None:
        raise ActionRefused(f"unknown outcome {outcome!r}; use done, refused or withdrawn")
    if not note.strip():
        raise ActionRefused("closing a case needs a note for the file")

    def mutate(case: Case) -> dict[str, object]:
        if wanted == State.DONE and case.verified_at is None:
            raise ActionRefused(
                f"case {case.reference} is not verified; it cannot be closed as done. "
                "Verify the identity first, or close it as refused or withdrawn"
            )
        details = _move(case, wanted)
        case.closed_at, case.outcome_note = now, note.strip()
        return {**details, "note": note.strip()}

    def notify(session: Session, case: Case) -> None:
        # For `refused` the note is the reason the requester is told (art. 12(4)).
        message = note.strip() if wanted == State.REFUSED else ""
        try:
            settled = settle_tasks(
                desk, session=session, case=case, done=wanted == State.DONE, force=force, now=now
            )
        except TasksOpen as exc:
            raise ActionRefused(str(exc)) from None
        done = wanted == State.DONE
        link = offer_download(desk, session=session, case=case, now=now) if done else None
        queue_outcome(
            desk,
            session=session,
            case=case,
            outcome=wanted,
            message=message,
            now=now,
            work=settled.work,
            told=settled.told,
            download_url=link,
        )

    return _change(
        desk,
        reference=reference,
        now=now,
        actor=actor,
        action="closed",
        mutate=mutate,
        after=notify,
    )

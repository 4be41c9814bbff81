"""The triage actions on both databases: state, deadline and audit trail change together."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot import cases as core
from bot.categories import UnknownKind
from bot.deadline import ExtensionRefused
from bot.desk import Desk
from bot.states import IllegalTransition
from storage.models import AuditEvent
from tests.factories import T0, new_case

LATER = T0 + timedelta(hours=1)


def _events(desk: Desk, reference: str) -> list[str]:
    with desk.transaction() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.reference == reference))
        return [e.action for e in rows]


def test_open_case_sets_reference_state_and_legal_deadline(desk: Desk) -> None:
    case = new_case(desk)
    assert case.reference == "DSR-2026-0001"
    assert case.state == "awaiting_identity"
    assert case.due == date(2026, 4, 2)  # received Mon 2 March -> Thu 2 April
    assert _events(desk, case.reference) == ["case_opened"]


def test_unknown_reference_says_so_and_points_to_the_list(desk: Desk) -> None:
    with pytest.raises(core.UnknownCase, match="unknown case DSR-2026-0099; .*/dsr list"):
        core.assign(desk, reference="DSR-2026-0099", assignee="U1", actor="t", now=LATER)


def test_assign_records_actor_in_audit(desk: Desk) -> None:
    case = new_case(desk)
    changed = core.assign(
        desk, reference=case.reference, assignee="U42", actor="slack:U1", now=LATER
    )
    assert changed.assignee == "U42"
    with desk.transaction() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "assigned")).one()
    assert (event.actor, event.details["to"]) == ("slack:U1", "U42")


def test_change_kind_clears_triage_and_opens_a_verified_case(desk: Desk) -> None:
    case = new_case(desk, category="other", needs_triage=True)
    core.verify_by_hand(
        desk, reference=case.reference, note="ID checked at desk", actor="cli:anna", now=LATER
    )
    assert core.get_case(desk, reference=case.reference).state == "needs_triage"
    changed = core.change_kind(desk, reference=case.reference, kind="erasure", actor="t", now=LATER)
    assert (changed.category, changed.needs_triage, changed.state) == ("erasure", False, "open")


def test_change_kind_refuses_an_unknown_kind(desk: Desk) -> None:
    case = new_case(desk)
    with pytest.raises(UnknownKind, match="use one of: access"):
        core.change_kind(desk, reference=case.reference, kind="gossip", actor="t", now=LATER)


def test_verify_by_hand_needs_a_note(desk: Desk) -> None:
    case = new_case(desk)
    with pytest.raises(core.ActionRefused, match="needs a note"):
        core.verify_by_hand(desk, reference=case.reference, note="  ", actor="t", now=LATER)
    assert core.get_case(desk, reference=case.reference).verified_at is None


def test_verify_by_hand_opens_the_case(desk: Desk) -> None:
    case = new_case(desk)
    changed = core.verify_by_hand(
        desk, reference=case.reference, note="passport seen", actor="cli:anna", now=LATER
    )
    assert (changed.state, changed.verified_at) == ("open", LATER)
    assert _events(desk, case.reference) == ["case_opened", "verified"]


def test_extend_sets_extended_due_and_state(desk: Desk) -> None:
    case = new_case(desk)
    changed = core.extend(
        desk, reference=case.reference, reasons="many systems to search", actor="t", now=LATER
    )
    assert changed.state == "extended"
    assert changed.extended_due == date(2026, 6, 2)


def test_extension_on_the_due_day_is_allowed_and_after_it_refused(desk: Desk) -> None:
    first, second = new_case(desk), new_case(desk)
    last_minute = datetime(2026, 4, 2, 21, 59, tzinfo=UTC)  # 23:59 CEST on the due day
    core.extend(desk, reference=first.reference, reasons="r", actor="t", now=last_minute)
    with pytest.raises(ExtensionRefused, match="has passed"):
        core.extend(
            desk,
            reference=second.reference,
            reasons="r",
            actor="t",
            now=last_minute + timedelta(minutes=2),
        )
    assert core.get_case(desk, reference=second.reference).extended_due is None


def test_second_extension_is_refused(desk: Desk) -> None:
    case = new_case(desk)
    core.extend(desk, reference=case.reference, reasons="r", actor="t", now=LATER)
    with pytest.raises(core.ActionRefused, match="already extended"):
        core.extend(desk, reference=case.reference, reasons="again", actor="t", now=LATER)


def test_unverified_case_cannot_be_closed_as_done(desk: Desk) -> None:
    case = new_case(desk)
    with pytest.raises(core.ActionRefused, match="not verified"):
        core.close(
            desk, reference=case.reference, outcome="done", note="sent", actor="t", now=LATER
        )
    assert _events(desk, case.reference) == ["case_opened"]


def test_close_and_then_nothing_changes(desk: Desk) -> None:
    case = new_case(desk)
    closed = core.close(
        desk,
        reference=case.reference,
        outcome="withdrawn",
        note="requester withdrew by phone",
        actor="t",
        now=LATER,
    )
    assert (closed.state, closed.closed_at) == ("withdrawn", LATER)
    with pytest.raises(core.ActionRefused, match="is closed"):
        core.assign(desk, reference=case.reference, assignee="U1", actor="t", now=LATER)


def test_illegal_transition_writes_no_audit_event(desk: Desk) -> None:
    case = new_case(desk)
    core.close(desk, reference=case.reference, outcome="refused", note="n", actor="t", now=LATER)
    before = _events(desk, case.reference)
    with pytest.raises(IllegalTransition):
        core.close(
            desk, reference=case.reference, outcome="withdrawn", note="n", actor="t", now=LATER
        )
    assert _events(desk, case.reference) == before
    assert before[-1] == "mail_queued" and "closed" in before


def test_lists_filter_overdue_due_soon_and_triage(desk: Desk) -> None:
    late = new_case(desk, received_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))  # due 5 Feb
    soon = new_case(desk, received_at=datetime(2026, 2, 20, 9, 0, tzinfo=UTC))  # due 20 Mar
    triage = new_case(desk, needs_triage=True, category="other")  # due 2 Apr
    now = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)

    def refs(query: core.CaseQuery) -> list[str]:
        return [c.reference for c in core.list_cases(desk, query=query, now=now)]

    assert refs(core.CaseQuery()) == [late.reference, soon.reference, triage.reference]
    assert refs(core.CaseQuery(overdue=True)) == [late.reference]
    assert refs(core.CaseQuery(due_within_days=7)) == [late.reference, soon.reference]
    assert refs(core.CaseQuery(triage=True)) == [triage.reference]
    core.close(desk, reference=late.reference, outcome="withdrawn", note="n", actor="t", now=now)
    assert refs(core.CaseQuery(overdue=True)) == []
    assert refs(core.CaseQuery(state="withdrawn")) == [late.reference]

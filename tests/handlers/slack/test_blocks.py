"""Block Kit builders and the stale-button stamp (pure, no server)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from handlers.slack.blocks import (
    ACTION_EXTEND,
    ACTION_VERIFY,
    build_case_message,
    build_close_modal,
    build_home,
    read_modal,
)
from handlers.slack.stamp import CaseStamp, stale_notice, what_changed
from storage.models import Case

TZ = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def a_case(**overrides: object) -> Case:
    values: dict[str, object] = {
        "id": 7,
        "reference": "DSR-2026-0007",
        "state": "open",
        "category": "access",
        "language": "nl",
        "requester": "jan.jansen@example.nl",
        "received_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "due": date(2026, 4, 2),
        "created_at": NOW,
        "updated_at": NOW,
        "version": 3,
    }
    values.update(overrides)
    return Case(**values)  # type: ignore[arg-type]


def action_ids(blocks: list[dict[str, object]]) -> set[str]:
    actions = [b for b in blocks if b["type"] == "actions"]
    return {e["action_id"] for a in actions for e in a["elements"]}  # type: ignore[attr-defined]


def test_case_message_masks_the_address_and_shows_what_the_desk_needs() -> None:
    text, blocks = build_case_message(a_case(), now=NOW, tz=TZ)
    shown = json.dumps(blocks) + text
    assert "j***@example.nl" in shown
    assert "jan.jansen" not in shown
    for expected in ("DSR-2026-0007", "Access / Inzage", "NL", "2026-04-02", "nobody", "Open"):
        assert expected in shown
    assert "inzage in uw persoonsgegevens" in shown
    assert {ACTION_VERIFY, ACTION_EXTEND} <= action_ids(blocks)


def test_a_reply_to_mismatch_is_a_visible_warning_on_the_case_message() -> None:
    _, plain = build_case_message(a_case(), now=NOW, tz=TZ)
    assert ":warning:" not in json.dumps(plain)
    _, flagged = build_case_message(a_case(flags=["reply_to_differs"]), now=NOW, tz=TZ)
    assert "Reply-To differs from From" in json.dumps(flagged)


def test_extend_is_not_offered_once_the_original_deadline_passed() -> None:
    after_due = datetime(2026, 4, 3, 9, 0, tzinfo=UTC)
    _, blocks = build_case_message(a_case(), now=after_due, tz=TZ)
    assert ACTION_EXTEND not in action_ids(blocks)
    assert "OVERDUE" in json.dumps(blocks)


def test_closed_case_has_no_buttons_and_verified_case_no_verify() -> None:
    _, closed = build_case_message(a_case(state="done"), now=NOW, tz=TZ)
    assert action_ids(closed) == set()
    _, verified = build_case_message(a_case(verified_at=NOW), now=NOW, tz=TZ)
    assert ACTION_VERIFY not in action_ids(verified)


def test_stamp_round_trip_and_what_changed() -> None:
    shown = CaseStamp.of(a_case())
    assert CaseStamp.decode(shown.encode()) == shown
    now = a_case(version=5, state="extended", assignee="slack:U9")
    changes = what_changed(shown, now)
    assert any("Extended" in c for c in changes)
    assert any("<@U9>" in c for c in changes)
    assert "out of date" in stale_notice(shown, now)
    assert stale_notice(shown, a_case()) == ""


def test_modal_values_are_read_back() -> None:
    view = build_close_modal("DSR-2026-0007|3|open|access||0", channel="C1")
    view["state"] = {
        "values": {
            "outcome": {"value": {"selected_option": {"value": "refused"}}},
            "note": {"value": {"value": " manifestly unfounded "}},
        }
    }
    values = read_modal(view)
    assert values["outcome"] == "refused"
    assert values["note"] == "manifestly unfounded"
    assert values["meta.channel"] == "C1"


def test_home_marks_overdue_and_counts_states() -> None:
    summary = {
        "reference": "DSR-2026-0001",
        "category": "erasure",
        "state": "open",
        "assignee": None,
        "due": "2026-03-01",
        "extended_due": None,
        "days_left": -9,
        "overdue": True,
    }
    view = build_home([summary], counts={"open": 1, "done": 4}, more=False)
    shown = json.dumps(view)
    assert view["type"] == "home"
    assert "OVERDUE" in shown and "Done / Afgehandeld: 4" in shown

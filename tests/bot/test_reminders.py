"""The reminder rules, without a database: ladder, catch-up, identity steps, still-wanted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar_nl import DutchCalendar
from bot.reminders import (
    DEADLINE,
    IDENTITY,
    Policy,
    Step,
    days_words,
    latest_step,
    make_reminder,
    next_deadline_step,
    next_identity_step,
    parse_step,
    payload_from_key,
    reminder_key,
    reminder_still_wanted,
    reminder_text,
    slack_payload,
)
from bot.templates import render_mail
from storage.models import Case

CAL = DutchCalendar("strict")
POLICY = Policy()
DUE = date(2026, 4, 2)  # Thursday; Easter Monday is 6 April 2026


def step_on(today: date, *, due: date = DUE, extended: bool = False) -> str | None:
    found = latest_step(due=due, extended=extended, today=today, policy=POLICY, calendar=CAL)
    return found.name if found else None


def a_case(**changes: object) -> Case:
    values: dict[str, object] = {
        "id": 7,
        "reference": "DSR-2026-0007",
        "state": "open",
        "category": "access",
        "requester": "jan@example.nl",
        "received_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "due": DUE,
        "assignee": "slack:U123",
        "created_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    }
    values.update(changes)
    return Case(**values)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 25), None),
        (date(2026, 3, 26), "t-7"),
        (date(2026, 3, 27), "t-7"),
        (date(2026, 3, 30), "t-3wd"),  # Mon: 3 working days before Thu 2 April
        (date(2026, 4, 1), "t-3wd"),
        (date(2026, 4, 2), "due"),
        (date(2026, 4, 3), "overdue-2026-04-03"),
        (date(2026, 4, 4), "overdue-2026-04-03"),  # Saturday: Friday's still stands
        (date(2026, 4, 6), "overdue-2026-04-03"),  # Easter Monday is not a working day
        (date(2026, 4, 7), "overdue-2026-04-07"),
    ],
)
def test_the_ladder_around_a_due_date(today: date, expected: str | None) -> None:
    assert step_on(today) == expected


def test_no_extension_question_once_extended() -> None:
    assert step_on(date(2026, 3, 26), extended=True) is None
    assert step_on(date(2026, 3, 30), extended=True) == "t-3wd"


def test_a_weekend_straight_after_a_friday_due_date_keeps_the_due_step() -> None:
    assert step_on(date(2026, 4, 11), due=date(2026, 4, 10)) == "due"


def test_a_week_of_downtime_gives_one_catch_up_of_the_latest_step() -> None:
    found = next_deadline_step(
        due=DUE, extended=False, today=date(2026, 4, 9), sent={"t-7"}, policy=POLICY, calendar=CAL
    )
    assert found is not None and found.name == "overdue-2026-04-09"


def test_a_clock_that_jumps_back_sends_no_earlier_step() -> None:
    sent = {"t-7", "due"}
    for day in (date(2026, 3, 30), date(2026, 4, 2)):
        assert (
            next_deadline_step(
                due=DUE, extended=False, today=day, sent=sent, policy=POLICY, calendar=CAL
            )
            is None
        )


@pytest.mark.parametrize("name", ["t-7", "t-3wd", "due", "overdue-2026-04-07", "t-10"])
def test_step_names_parse_back_to_their_day(name: str) -> None:
    step = parse_step(name, due=DUE, calendar=CAL)
    assert step is not None and step.name == name
    assert parse_step("identity-reminder", due=DUE, calendar=CAL) is None


@settings(max_examples=200, deadline=None)
@given(
    due_offset=st.integers(min_value=0, max_value=730),
    days=st.lists(st.integers(min_value=-20, max_value=30), min_size=1, max_size=60),
    extended=st.booleans(),
)
def test_any_sequence_of_sweeps_sends_each_step_at_most_once_and_in_order(
    due_offset: int, days: list[int], extended: bool
) -> None:
    due = CAL.roll_forward(date(2026, 1, 1) + timedelta(days=due_offset))
    sent: list[Step] = []
    for offset in days:  # in any order: clocks may jump back
        step = next_deadline_step(
            due=due,
            extended=extended,
            today=due + timedelta(days=offset),
            sent={s.name for s in sent},
            policy=POLICY,
            calendar=CAL,
        )
        if step is not None:
            assert step.name not in {s.name for s in sent}
            assert all(step > earlier for earlier in sent)
            sent.append(step)


def test_identity_reminder_after_three_working_days_then_the_give_up_question() -> None:
    received = date(2026, 3, 2)  # Monday

    def step(today: date, sent: set[str], can_mail: bool = True) -> str | None:
        found = next_identity_step(
            received_on=received,
            today=today,
            sent=sent,
            can_mail_requester=can_mail,
            policy=POLICY,
            calendar=CAL,
        )
        return found.name if found else None

    assert step(date(2026, 3, 4), set()) is None
    assert step(date(2026, 3, 5), set()) == "identity-reminder"
    assert step(date(2026, 3, 9), {"identity-reminder"}) is None
    assert step(date(2026, 3, 5), set(), can_mail=False) is None
    assert step(date(2026, 3, 16), {"identity-reminder"}) == "identity-give-up"
    assert step(date(2026, 3, 20), set()) == "identity-give-up"  # no late requester reminder
    assert step(date(2026, 3, 20), {"identity-give-up"}) is None


def test_horizon_covers_both_offsets() -> None:
    assert POLICY.horizon(date(2026, 3, 26), CAL) == date(2026, 4, 2)
    # Around Christmas 3 working days reach further than 7 calendar days.
    assert Policy(days_before=2).horizon(date(2026, 12, 23), CAL) == date(2026, 12, 29)


def test_a_queued_reminder_is_dropped_when_the_case_closed_or_the_due_date_moved() -> None:
    key = reminder_key(purpose=DEADLINE, case_id=7, step="t-7", due=DUE, state="open")
    payload = payload_from_key(key)
    assert payload == {"purpose": DEADLINE, "step": "t-7", "due": "2026-04-02", "state": "open"}
    assert reminder_still_wanted(a_case(), payload)
    assert not reminder_still_wanted(a_case(state="done"), payload)
    assert not reminder_still_wanted(a_case(extended_due=date(2026, 6, 2)), payload)
    assert not reminder_still_wanted(None, payload)
    assert payload_from_key("mail:ack:7") is None


def test_an_identity_question_is_dropped_once_the_identity_is_confirmed() -> None:
    payload = {"purpose": IDENTITY, "due": "2026-04-02", "state": "awaiting_identity"}
    waiting = a_case(state="awaiting_identity")
    assert reminder_still_wanted(waiting, payload)
    verified = a_case(state="open", verified_at=datetime(2026, 3, 10, tzinfo=UTC))
    assert not reminder_still_wanted(verified, payload)


def test_the_reminder_says_reference_kind_due_date_days_left_and_next_action() -> None:
    case = a_case()
    step = Step(date(2026, 3, 26), 0, "t-7")
    reminder = make_reminder(case, step=step, purpose=DEADLINE, today=date(2026, 3, 26))
    text = reminder_text(reminder)
    assert "DSR-2026-0007" in text and "inzage" in text
    assert "donderdag 2 april 2026" in text and "nog 7 dagen" in text
    assert "verlenging" in text and "/dsr extend DSR-2026-0007" in text
    english = reminder_text(reminder, language="en")
    assert "7 days left" in english and "extension" in english
    payload = slack_payload(reminder, text=text)
    assert payload["dm_user"] == "slack:U123" and payload["broadcast"] is False
    assert payload["due"] == "2026-04-02" and payload["state"] == "open"


def test_the_next_action_follows_the_state_of_the_case() -> None:
    due_step = Step(DUE, 2, "due")
    late_step = Step(date(2026, 4, 7), 3, "overdue-2026-04-07")
    today = date(2026, 4, 2)

    def action(case: Case, step: Step = due_step) -> str:
        return make_reminder(case, step=step, purpose=DEADLINE, today=today).action

    assert action(a_case(state="awaiting_identity")) == "verify"
    assert action(a_case(needs_triage=True)) == "triage"
    assert action(a_case(assignee=None)) == "assign"
    assert action(a_case()) == "answer"
    assert action(a_case(), late_step) == "answer_overdue"
    unassigned = slack_payload(
        make_reminder(a_case(assignee=None), step=due_step, purpose=DEADLINE, today=today),
        text="x",
    )
    assert unassigned["dm_user"] is None and unassigned["broadcast"] is True


@pytest.mark.parametrize(
    ("days", "nl", "en"),
    [
        (3, "nog 3 dagen", "3 days left"),
        (1, "nog 1 dag", "1 day left"),
        (0, "vandaag de laatste dag", "due today"),
        (-1, "1 dag te laat", "1 day overdue"),
        (-5, "5 dagen te laat", "5 days overdue"),
    ],
)
def test_days_in_words(days: int, nl: str, en: str) -> None:
    assert days_words(days, "nl") == nl
    assert days_words(days, "en") == en


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_template_renders_in_both_languages(language: str) -> None:
    from bot.reminders import context

    reminder = make_reminder(
        a_case(), step=Step(DUE, 2, "due"), purpose=DEADLINE, today=date(2026, 4, 2)
    )
    mail = render_mail(
        "reminder_secretariat", language=language, context=context(reminder, language=language)
    )
    assert "DSR-2026-0007" in mail.subject and "DSR-2026-0007" in mail.html
    requester = render_mail(
        "identity_reminder",
        language=language,
        context={"reference": "DSR-2026-0007", "received": "2 maart", "kind_words": "inzage"},
    )
    assert ("nieuwe code" if language == "nl" else "new code") in requester.text
    digest = render_mail(
        "digest",
        language=language,
        context={
            "day": "2 april",
            "sections": [
                {
                    "title": "T",
                    "count": 12,
                    "more": 2,
                    "cases": [
                        {
                            "reference": "DSR-2026-0007",
                            "kind": "inzage",
                            "due": "2 april",
                            "days": "vandaag",
                            "assignee": None,
                        }
                    ],
                }
            ],
            "reviews": {
                "title": "Review",
                "count": 1,
                "more": 0,
                "lines": [
                    {
                        "id": 4,
                        "kind": "inzage",
                        "received": "1 april",
                        "days": 1,
                        "sender": "h***@x.nl",
                    }
                ],
            },
        },
    )
    assert "DSR-2026-0007" in digest.text and "DSR-2026-0007" in digest.html
    assert ("en nog 2" if language == "nl" else "and 2 more") in digest.text

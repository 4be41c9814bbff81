"""Two `dsr serve`-like processes sweeping the same PostgreSQL never send a reminder twice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.calendar_nl import DutchCalendar
from bot.desk import Desk
from bot.reminders import Policy, next_deadline_step, next_identity_step
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Case, OutboxItem, ReminderSent
from tests.factories import T0, make_settings, new_case

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
AMS = ZoneInfo("Europe/Amsterdam")
SLACK = {"slack_bot_token": "xoxb-test", "slack_app_token": "xapp-test"}
PROCESSES = 2

CHILD = """
import json, random, sys, time
from datetime import datetime
from bot.desk import Desk
from bot.sweep import run_sweep
from storage.engine import make_engine
from tests.factories import make_settings

url, tmp, moments = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
extra = {"slack_bot_token": "xoxb-test", "slack_app_token": "xapp-test"}
engine = make_engine(url)
desk = Desk(settings=make_settings(url, tmp, **extra), engine=engine)
done = skipped = 0
for moment in moments:
    # A skipped round is covered by the other instance at that real moment; with a fake
    # clock each process retries until it has swept this clock value itself.
    while (report := run_sweep(desk, now=datetime.fromisoformat(moment))).skipped:
        skipped += 1
        time.sleep(0.002)
    done += len(report.reminders)
    time.sleep(random.uniform(0, 0.01))  # let the two processes interleave
print(json.dumps({"queued": done, "skipped": skipped}))
"""


def seed(desk: Desk) -> list[Case]:
    cases = []
    for n in range(24):
        case = new_case(
            desk, requester=f"person{n}@example.nl", received_at=T0 - timedelta(days=2 * n)
        )
        if n % 3:  # two in three verified; the rest stay awaiting identity
            with desk.transaction() as session:
                row = session.get(Case, case.id)
                assert row is not None
                row.state, row.verified_at = "open", row.received_at + timedelta(hours=1)
                session.add(row)
                case = row
        cases.append(case)
    return cases


def expected_steps(cases: list[Case], moments: list[datetime]) -> Counter[tuple[int, str]]:
    """What one process sweeping at every moment would send (the pure rules, no database)."""
    calendar, policy = DutchCalendar("strict"), Policy()
    found: Counter[tuple[int, str]] = Counter()
    for case in cases:
        sent: set[str] = set()
        for moment in moments:
            today = moment.astimezone(AMS).date()
            step = next_deadline_step(
                due=case.due, extended=False, today=today, sent=sent, policy=policy,
                calendar=calendar,
            )  # fmt: skip
            if step is not None:
                sent.add(step.name)
            if case.state == "awaiting_identity":
                ident = next_identity_step(
                    received_on=case.received_at.astimezone(AMS).date(), today=today, sent=sent,
                    can_mail_requester=True, policy=policy, calendar=calendar,
                )  # fmt: skip
                if ident is not None:
                    sent.add(ident.name)
        found.update((case.id or 0, name) for name in sent)
    return found


def test_two_processes_sweeping_together_send_each_reminder_once(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    desk = Desk(settings=make_settings(postgres_url, tmp_path, **SLACK), engine=engine)
    cases = seed(desk)
    first = date(2026, 3, 2)
    moments = [
        datetime.combine(first + timedelta(days=n), time(10, m), tzinfo=AMS)
        for n in range(70)
        for m in (0, 1)
    ]
    argv = [postgres_url, str(tmp_path), json.dumps([m.isoformat() for m in moments])]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, *argv], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    outputs = [json.loads(child.communicate(timeout=300)[0]) for child in children]
    assert all(child.returncode == 0 for child in children)

    with desk.transaction() as session:
        recorded = Counter((r.case_id, r.step) for r in session.exec(select(ReminderSent)))
        rows = session.exec(select(OutboxItem)).all()
    slack = Counter(
        (row.case_id or 0, json.loads(row.payload)["step"])
        for row in rows
        if row.kind == "reminder"
    )
    mails = Counter(row.case_id for row in rows if row.kind == "auto.identity_reminder")
    engine.dispose()

    expected = expected_steps(cases, moments)
    assert recorded == expected
    assert max(slack.values()) == 1 and max(mails.values()) == 1
    assert set(slack) | {(case_id or 0, "identity-reminder") for case_id in mails} == set(expected)
    assert sum(o["queued"] for o in outputs) == sum(expected.values())

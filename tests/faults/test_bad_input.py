"""Bad input at every door: oversized mail to `dsr ingest`, malformed signed Slack payloads,
out-of-range CLI arguments.

Covered elsewhere, not repeated here: oversized mail to the listener (552 5.3.4, declared and
undeclared size) in tests/handlers/test_smtp_listener.py; empty and header-less input to
`dsr ingest` (65) in tests/handlers/test_ingest.py; a CSV register with broken rows (line
numbers reported, good rows loaded) in tests/bot/test_identity.py; bad and missing Slack
command arguments in tests/handlers/slack/test_parse.py.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func
from sqlmodel import select

from handlers.cli import main
from storage.models import AuditEvent, Case, OutboxItem
from tests.handlers.slack.conftest import clock, slack, slack_desk, stub
from tests.handlers.slack.harness import CHANNEL, DESK_USER, Harness, open_case_as_intake
from tests.handlers.test_ingest import REQUEST

__all__ = ["clock", "slack", "slack_desk", "stub"]  # the Slack fixtures, used here


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], stdin: bytes = b"") -> Any:
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with pytest.raises(SystemExit) as exited:
            main(args)
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_oversized_mail_to_ingest_is_quarantined_with_65(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", f"sqlite:///{tmp_path}/dsr.db")
    monkeypatch.setenv("DSR_MAX_MESSAGE_BYTES", "4000")
    big = REQUEST + b"x" * 5000 + b"\r\n"
    code, out, _ = run_cli(["ingest", "-"], capsys, stdin=big)
    result = json.loads(out)
    print(f"\noversized to dsr ingest: exit {code}, {result['reason']}")
    assert code == 65
    assert result["action"] == "quarantined"
    assert result["reason"].startswith("too large")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["cases", "list", "--due-within", "-5"], "DAYS must be between 0 and 366"),
        (["cases", "list", "--due-within", "many"], "invalid"),
        (["deadline", "--received", "garbage"], "garbage"),
        (["deadline", "--received", "2026-03-02T10:00:00+01:00", "--verified", "x"], "'x'"),
    ],
)
def test_out_of_range_cli_arguments_exit_2_with_a_message(
    args: list[str],
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", f"sqlite:///{tmp_path}/dsr.db")
    code, out, err = run_cli(args, capsys)
    print(f"\n{' '.join(args)}: exit {code}: {err.strip().splitlines()[-1]}")
    assert code == 2
    assert says in err
    assert "Traceback" not in err


def snapshot(slack: Harness) -> tuple[int, int, int, list[tuple[str, int]]]:
    with slack.desk.transaction() as session:
        cases = session.exec(select(Case.state, Case.version)).all()
        return (
            int(session.exec(select(func.count()).select_from(AuditEvent)).one()),
            int(session.exec(select(func.count()).select_from(OutboxItem)).one()),
            len(cases),
            sorted((str(s), int(v)) for s, v in cases),
        )


def _action(**action: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": DESK_USER},
        "api_app_id": "A1",
        "trigger_id": "trigger.x",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL},
        "actions": [action],
    }


MALFORMED: list[tuple[str, str]] = [
    ("payload not JSON", urlencode({"payload": "{not json"})),
    ("payload a list", urlencode({"payload": "[1, 2]"})),
    ("no type", urlencode({"payload": json.dumps({"user": {"id": DESK_USER}})})),
    ("no actions", urlencode({"payload": json.dumps({**_action(), "actions": []})})),
    (
        "action value a number",
        urlencode({"payload": json.dumps(_action(action_id="case_assign_me", value=42))}),
    ),
    (
        "action without value",
        urlencode({"payload": json.dumps(_action(action_id="case_assign_me"))}),
    ),
    (
        "unknown case",
        urlencode(
            {"payload": json.dumps(_action(action_id="case_assign_me", value="DSR-2099-9999"))}
        ),
    ),
    ("user missing", urlencode({"payload": json.dumps({**_action(), "user": None})})),
    (
        "view without state",
        urlencode(
            {
                "payload": json.dumps(
                    {
                        "type": "view_submission",
                        "user": {"id": DESK_USER},
                        "view": {"callback_id": "case_close", "private_metadata": 7},
                    }
                )
            }
        ),
    ),
    (
        "command without text or user",
        urlencode({"command": "/dsr", "team_id": "T1", "channel_id": CHANNEL}),
    ),
    ("command text a list", urlencode({"command": "/dsr", "text": ["a", "b"]}, doseq=True)),
]


async def test_malformed_signed_slack_payloads_never_500_and_change_nothing(
    slack: Harness,
) -> None:
    open_case_as_intake(slack.desk)
    await slack.deliver()
    before = snapshot(slack)
    statuses: dict[str, int] = {}
    for label, body in MALFORMED:
        statuses[label] = await slack.post(body, content_type="application/x-www-form-urlencoded")
    event = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "not a dict"})
    statuses["event not an object"] = await slack.post(event, content_type="application/json")
    statuses["body not JSON"] = await slack.post("{", content_type="application/json")
    after = snapshot(slack)
    print(f"\nmalformed Slack payloads: {statuses}")
    assert all(status in {200, 400, 404} for status in statuses.values()), statuses
    assert after == before

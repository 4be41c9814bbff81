"""What a person at a terminal reads: advice that works when retried, hints that name the
terminal's commands, case details without Python's spelling, and quiet pipes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import load_settings
from handlers.runtime import build_desk
from storage.models import Message
from storage.sealing import generate_key
from tests.factories import T0, new_case
from tests.handlers.test_cli import run_cli


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    monkeypatch.setenv("DSR_ENCRYPTION_KEY", generate_key())
    return sqlite_url


@pytest.mark.parametrize(
    ("given", "advised"),
    [
        ("2026-01-31", "2026-01-31T00:00:00+01:00"),
        ("2026-01-31+01:00", "2026-01-31T00:00:00+01:00"),
        ("2026-01-31Z", "2026-01-31T00:00:00+01:00"),
        ("2026-07-01T10:00", "2026-07-01T10:00:00+02:00"),
    ],
)
def test_deadline_advice_for_a_moment_without_offset_is_accepted_when_followed(
    given: str, advised: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["deadline", "--received", given, "--json"], capsys)
    assert code == 2
    assert f"e.g. {advised} or " in err
    utc = err.rstrip().rsplit(" or ", 1)[1]
    for retry in (advised, utc):
        code, out, err = run_cli(["deadline", "--received", retry, "--json"], capsys)
        assert code == 0, err
        assert f'"received": "{advised}"' in out


def test_deadline_extended_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    moment = ["deadline", "--received", "2026-01-31T10:00:00+01:00", "--json"]
    assert run_cli(moment, capsys) == run_cli([*moment, "--extended"], capsys)


def test_an_unknown_case_in_a_terminal_points_at_dsr_cases_list(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["cases", "show", "DSR-2026-9999"], ["cases", "assign", "DSR-2026-9999", "a"]):
        code, _, err = run_cli(args, capsys)
        assert code == 1
        assert "unknown case DSR-2026-9999; see the list of cases (dsr cases list)" in err
        assert "/dsr" not in err


def test_cases_show_prints_clean_aligned_values_and_the_messages_without_bodies(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = build_desk(load_settings())
    case = new_case(desk)
    with desk.transaction() as session:
        session.add(
            Message(
                case_id=case.id,
                direction="in",
                dedupe_key="k1",
                at=T0 + timedelta(minutes=1),
                subject="Inzageverzoek",
                raw=b"Subject: Inzageverzoek\r\n\r\nMijn geheime tekst\r\n",
            )
        )
    code, out, _ = run_cli(["cases", "show", case.reference], capsys)
    assert code == 0
    fields = out.split("\nmessages (1)\n")[0].splitlines()
    value_columns = {len(re.match(r"\S+\s+", line).group()) for line in fields}  # type: ignore[union-attr]
    assert len(value_columns) == 1  # every value starts in one column
    values = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in fields}
    assert values["also"] == "-"
    assert values["assignee"] == "-"
    assert values["verified"] == "no"
    assert values["client_may_be_informed"] == "unknown"
    assert not any(v in {"[]", "None", "True", "False"} or "['" in v for v in values.values())
    assert "in   Inzageverzoek" in out
    assert "geheime" not in out
    assert "case_opened" in out


def test_inventory_show_without_an_inventory_says_so_and_succeeds(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["inventory", "show"], capsys)
    assert code == 0
    assert out.startswith("no inventory configured (no file at inventory.toml)")
    code, out, _ = run_cli(["inventory", "show", "--json"], capsys)
    assert (code, out) == (0, "[]\n")


def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -c 0`: gone before the command writes
    done = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "deadline", "--received", "2026-01-31T10:00Z"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""

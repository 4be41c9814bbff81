"""`dsr audit verify|export`, `dsr register export`, `dsr purge` from a terminal."""

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.audit_export import AUDIT_COLUMNS
from storage.audit import append_event, chain_head
from storage.sealing import generate_key
from tests.factories import T0, make_settings, new_case
from tests.handlers.test_cli import _desk, run_cli


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DSR_ENCRYPTION_KEY", generate_key())
    return sqlite_url


def test_verify_reports_an_intact_chain_then_the_row_edited_by_hand(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(env, tmp_path)
    for _ in range(3):
        new_case(desk)
    code, out, _ = run_cli(["audit", "verify"], capsys)
    assert code == 0 and "intact: 3 event(s)" in out
    with desk.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET details = '{}' WHERE id = 2"))
    code, out, _ = run_cli(["audit", "verify"], capsys)
    assert code == 1 and "BROKEN at event 2" in out


def test_export_filters_by_case_and_is_itself_audited(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(env, tmp_path)
    first, _second = new_case(desk), new_case(desk)
    code, out, _ = run_cli(["audit", "export", "--case", first.reference], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["case"] for r in rows] == [first.reference]
    code, out, _ = run_cli(["audit", "export"], capsys)
    assert list(csv.DictReader(io.StringIO(out)))[-1]["action"] == "audit_exported"


FORMULAS = ('=HYPERLINK("http://evil.example","klik")', "+1+1", "@SUM(A1)", "\t=1+1")


def test_export_cells_a_spreadsheet_would_run_start_with_an_apostrophe(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(env, tmp_path)
    case = new_case(desk)
    with desk.transaction() as session:
        for formula in FORMULAS:
            append_event(
                session=session,
                at=T0,
                actor=formula,
                action="noted",
                reference=case.reference,
                note=formula,
            )
    code, out, _ = run_cli(["audit", "export", "--case", case.reference], capsys)
    header, opened, *noted = csv.reader(io.StringIO(out))
    assert code == 0 and tuple(header) == AUDIT_COLUMNS
    assert [(row[2], row[6]) for row in noted] == [(f"'{f}", f"'{f}") for f in FORMULAS]
    # Ordinary cells are written as they were: the case, the time, the details, the hash.
    for row in (opened, *noted):
        assert row[1].startswith("2026-") and row[4] == case.reference
        assert row[5].startswith("{") and len(row[7]) == 64


def test_export_refuses_a_time_without_offset(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["audit", "export", "--from", "2026-01-01T00:00"], capsys)
    assert code == 2 and "no UTC offset" in err


def test_register_export_and_purge_dry_run(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new_case(_desk(env, tmp_path))
    target = tmp_path / "register.csv"
    code, _, _ = run_cli(["register", "export", "--output", str(target)], capsys)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert code == 0 and rows[0]["reference"] == "DSR-2026-0001" and rows[0]["kind"] == "access"
    code, out, _ = run_cli(["purge", "--dry-run"], capsys)
    assert code == 0 and "would purge 0 case(s), 0 breach(es)" in out
    code, out, _ = run_cli(["purge", "--dry-run", "--json"], capsys)
    assert code == 0 and json.loads(out)["breaches"] == []
    assert make_settings(env, tmp_path).retention_days == 730


def test_verify_reports_rows_removed_from_the_end_of_the_trail(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(env, tmp_path)
    for _ in range(3):
        new_case(desk)
    code, out, _ = run_cli(["audit", "verify"], capsys)
    assert code == 0 and "intact: 3 event(s); reaches event 3" in out
    with desk.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = 3"))
    code, out, _ = run_cli(["audit", "verify"], capsys)
    assert code == 1 and "BROKEN at event 3" in out and "missing at the end" in out


def test_verify_checks_the_head_a_digest_carried(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(env, tmp_path)
    new_case(desk)
    with desk.transaction() as session:
        head = chain_head(session=session)
    assert head is not None
    code, out, _ = run_cli(["audit", "verify", "--head", head.line()], capsys)
    assert code == 0 and "reaches event 1 of the given head" in out
    wrong = f"{head.event_id} {'0' * 64}"
    code, out, _ = run_cli(["audit", "verify", "--head", wrong], capsys)
    assert code == 1 and "recorded head" in out
    code, _, err = run_cli(["audit", "verify", "--head", "one"], capsys)
    assert code == 2 and "'ID HASH'" in err


def test_purge_reports_the_sent_copies_it_removes(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["purge", "--json"], capsys)
    assert code == 0 and '"files": 0' in out

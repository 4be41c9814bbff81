"""`dsr ingest`, run in-process through the real argument parser."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from handlers.cli import main

REQUEST = (
    b"From: Emily Clarke <emily.clarke@example.co.uk>\r\nTo: secretariaat@proambt.nl\r\n"
    b"Subject: Request to delete my personal data\r\nMessage-ID: <erase-1@example.co.uk>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n"
    b"Dear Sir or Madam,\r\n\r\nUnder Article 17 GDPR I ask you to erase all personal data "
    b"you hold about me.\r\n\r\nKind regards,\r\nEmily Clarke\r\n"
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", db_url)
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    return db_url


def ingest(
    args: list[str], capsys: pytest.CaptureFixture[str], stdin: bytes | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with pytest.raises(SystemExit) as exited:
            main(["ingest", *args])
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_a_request_from_a_file_opens_a_case(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mail.eml"
    path.write_bytes(REQUEST)
    code, out, _ = ingest([str(path)], capsys)
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"action", "case", "category", "reason"}
    assert result["action"] == "created"
    assert result["case"].startswith("DSR-")
    assert result["category"] == "erasure"


def test_stdin_twice_gives_one_case_and_a_duplicate(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = json.loads(ingest(["-"], capsys, stdin=REQUEST)[1])
    code, out, _ = ingest([], capsys, stdin=REQUEST)
    assert code == 0
    assert json.loads(out) == {
        "action": "duplicate",
        "case": first["case"],
        "category": None,
        "reason": "this mail was stored before",
    }


@pytest.mark.parametrize("garbage", [b"", b"\r\n\r\n", b"just some words\nno header at all\n"])
def test_unusable_input_is_quarantined_with_exit_65(
    env: str, capsys: pytest.CaptureFixture[str], garbage: bytes
) -> None:
    code, out, _ = ingest(["-"], capsys, stdin=garbage)
    assert code == 65
    result = json.loads(out)
    assert result["action"] == "quarantined"
    assert result["reason"]


def test_unreachable_database_is_a_temporary_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    code, out, err = ingest(["-"], capsys, stdin=REQUEST)
    assert code == 75
    assert out == ""
    assert "not stored" in err and "try again later" in err


def test_a_missing_file_says_so(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = ingest(["/nonexistent/mail.eml"], capsys)
    assert code == 66
    assert out == ""
    assert "cannot read /nonexistent/mail.eml" in err

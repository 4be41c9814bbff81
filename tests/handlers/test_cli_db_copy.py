"""`dsr db copy --to URL`: SQLite to PostgreSQL under the same key, sealed columns as stored."""

from __future__ import annotations

import secrets
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot import cases as core
from bot.intake import process_message
from handlers.runtime import build_desk
from storage.models import Case, Message
from tests.factories import T0, make_settings, new_case
from tests.handlers.test_cli import run_cli


@pytest.fixture
def sqlite_desk_env(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    audit_key = secrets.token_hex(32)
    monkeypatch.setenv("DSR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DSR_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DSR_AUDIT_KEY", audit_key)
    return {"audit_key": audit_key}


def test_copy_moves_every_row_and_the_chain_and_refuses_a_second_time(
    sqlite_desk_env: dict[str, str],
    sqlite_url: str,
    postgres_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(sqlite_url, tmp_path, audit_key=sqlite_desk_env["audit_key"])
    source = build_desk(settings)
    references = [
        new_case(source, requester=f"persoon{n}@example.nl", received_at=T0).reference
        for n in range(5)
    ]
    core.assign(source, reference=references[0], assignee="slack:U1", actor="cli:t", now=T0)
    mail = EmailMessage()
    mail["From"], mail["To"] = "piet@example.nl", "secretariaat@proambt.nl"
    mail["Subject"], mail["Message-ID"] = "Inzageverzoek", "<copy-1@example.nl>"
    mail.set_content("Ik wil graag inzage in mijn persoonsgegevens (art. 15 AVG).\n")
    by_mail = process_message(source, bytes(mail), now=T0, source="test").case
    assert by_mail is not None
    with source.engine.connect() as connection:
        sealed = connection.execute(text("SELECT requester FROM dsr_case ORDER BY id")).all()
    source.engine.dispose()

    code, out, err = run_cli(["db", "copy", "--to", postgres_url], capsys)
    assert code == 0, err
    assert "dsr_case: 6 row(s)" in out and "audit trail intact" in out
    assert "password" not in out

    target = build_desk(
        make_settings(postgres_url, tmp_path, audit_key=sqlite_desk_env["audit_key"])
    )
    with target.engine.connect() as connection:
        copied = connection.execute(text("SELECT requester FROM dsr_case ORDER BY id")).all()
    assert copied == sealed and all(not r[0].endswith("example.nl") for r in copied)
    with target.transaction() as session:
        requesters = sorted(c.requester for c in session.exec(select(Case)))
    assert requesters == sorted([*(f"persoon{n}@example.nl" for n in range(5)), "piet@example.nl"])
    with target.transaction() as session:
        [stored] = session.exec(select(Message).where(Message.direction == "in")).all()
    assert stored.raw == bytes(mail)  # sealed bytes, opened with the same key
    assert core.get_case(target, reference=references[0]).assignee == "slack:U1"
    added = new_case(target, requester="nieuw@example.nl", received_at=T0)  # ids move on
    assert added.reference not in references
    target.engine.dispose()

    code, _, err = run_cli(["db", "copy", "--to", postgres_url], capsys)
    assert code == 1 and "is not empty" in err and "dsr_case" in err

"""The database goes away under the SMTP listener: PostgreSQL connections terminated, the
embedded SQLite file read-only. The listener answers 451 (or 250 once reconnected), never loses
or half-writes a mail, and takes mail again once the database is back."""

from __future__ import annotations

import io
import os
import sqlite3
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.desk import Desk
from handlers.cli import main
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Message
from tests.conftest import POSTGRES_URL
from tests.factories import make_settings
from tests.handlers.test_smtp_listener import Listener, counts, listening, request_mail


async def send(listener: Listener, mail: EmailMessage) -> str:
    """`250 ...` or the refusal as `code message`."""
    try:
        return "250 " + await listener.send(mail)
    except aiosmtplib.SMTPResponseException as exc:
        return f"{exc.code} {exc.message}"


def half_written(desk: Desk) -> list[str]:
    """Inbound mail without its case and without an ignore/duplicate/quarantine reason."""
    with desk.transaction() as session:
        stored = session.exec(select(Message).where(Message.direction == "in")).all()
    return [
        str(m.message_id)
        for m in stored
        if not m.action or (m.action in {"created", "threaded"} and m.case_id is None)
    ]


def terminate(application_name: str) -> int:
    with psycopg.connect(
        POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
    ) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'test' "
            "AND pid <> pg_backend_pid() AND application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
async def test_terminated_postgresql_connections_cost_a_retry_at_most(
    postgres_url: str, tmp_path: Path
) -> None:
    name = f"dsr_fault_{uuid.uuid4().hex[:8]}"
    url = f"{postgres_url}&application_name={name}"
    engine = make_engine(url)
    upgrade(engine)
    desk = Desk(settings=make_settings(url, tmp_path), engine=engine)
    answers: list[str] = []
    killed = 0
    try:
        async for listener in listening(desk):
            answers.append(await send(listener, request_mail("<before@example.nl>")))
            killed = terminate(name)
            during = request_mail("<during@example.nl>")
            answers.append(await send(listener, during))
            if not answers[-1].startswith("250"):
                answers.append(await send(listener, during))  # the sending server retries
            answers.append(await send(listener, request_mail("<after@example.nl>")))
        missing = half_written(desk)
        stored = counts(desk)
    finally:
        engine.dispose()
    print(
        f"\nPostgreSQL gone: {killed} connections terminated; answers "
        f"{[a.split(' ', 2)[:2] for a in answers]}; stored (messages, cases) {stored}; "
        f"half-written {len(missing)}"
    )
    assert killed >= 1
    assert all(a.startswith(("250", "451 4.3.0")) for a in answers)
    assert answers[-1].startswith("250 2.0.0 queued")
    assert stored == (3, 3)
    assert missing == []


def ingest(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    sys.stdin = io.TextIOWrapper(io.BytesIO(path.read_bytes()))
    try:
        with pytest.raises(SystemExit) as exited:
            main(["ingest", "-"])
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


async def test_read_only_sqlite_answers_451_and_ingest_75_then_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root chmod is moot, so read-only is SQLite's `mode=ro`; otherwise chmod 0444/0555."""
    store = tmp_path / "var"
    database = store / "dsr.db"
    writable_url = f"sqlite:///{database}"
    engine = make_engine(writable_url)
    upgrade(engine)
    engine.dispose()
    as_root = os.geteuid() == 0
    if as_root:
        read_only_url = f"sqlite:///file:{database}?mode=ro&uri=true"
    else:
        database.chmod(0o444)
        store.chmod(0o555)
        read_only_url = writable_url
    mail = request_mail("<read-only@example.nl>")
    desk = Desk(settings=make_settings(read_only_url, tmp_path), engine=make_engine(read_only_url))
    try:
        async for listener in listening(desk):
            refused = await send(listener, mail)
    finally:
        desk.engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", read_only_url)
    eml = tmp_path / "mail.eml"
    eml.write_bytes(mail.as_bytes())
    code, out, err = ingest(eml, capsys)
    if not as_root:
        store.chmod(0o755)
        database.chmod(0o644)
    with sqlite3.connect(database) as check:
        integrity = check.execute("PRAGMA integrity_check").fetchone()[0]
    desk = Desk(settings=make_settings(writable_url, tmp_path), engine=make_engine(writable_url))
    try:
        before = counts(desk)
        async for listener in listening(desk):
            accepted = await send(listener, mail)
        after = counts(desk)
        with desk.engine.connect() as conn:
            integrity_after = conn.execute(text("PRAGMA integrity_check")).scalar()
    finally:
        desk.engine.dispose()
    print(
        f"\nread-only SQLite ({'mode=ro' if as_root else 'chmod'}): listener {refused!r}; "
        f"dsr ingest exit {code}: {err.strip()!r}; integrity {integrity}; stored while "
        f"read-only {before}; writable again: {accepted!r}, stored {after}, integrity "
        f"{integrity_after}"
    )
    assert refused.startswith("451 4.3.0")
    assert code == 75 and out == ""
    assert "not stored" in err and "try again later" in err
    assert integrity == integrity_after == "ok"
    assert before == (0, 0)
    assert accepted.startswith("250 2.0.0 queued")
    assert after == (1, 1)

"""`dsr backup` and `dsr restore`: a copy taken while mail keeps arriving over SMTP holds every
mail answered 250 before it began, and a restore proves the key and the audit chain."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
from email import message_from_bytes
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlmodel import col, select

from bot.backups import MANIFEST, BackupError, Manifest, restore_backup, take_backup
from bot.intake import process_message
from bot.settings import Settings
from handlers.cli import main
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.runtime import build_desk, utcnow
from storage.backup import file_sha256
from storage.models import Message
from storage.sealing import generate_key
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail

MAILBOX = "secretariaat@proambt.nl"


def place(tmp_path: Path, name: str, **overrides: Any) -> Settings:
    """An installation with its own var dir and database file under `tmp_path/name`."""
    root = tmp_path / name
    return make_settings(
        f"sqlite:///{root}/var/dsr.db", root, var_dir=str(root / "var"), **overrides
    )


def put_keys_back(source: Settings, target: Settings) -> None:
    """What an operator does before a restore: the keys, kept apart, go back first."""
    target.var_dir.mkdir(parents=True, mode=0o700)
    shutil.copy2(source.var_dir / "audit.key", target.var_dir / "audit.key")


def message_id_of(raw: bytes) -> str:
    return str(message_from_bytes(raw)["Message-ID"]).strip("<>")


def stored_ids(settings: Settings) -> set[str]:
    desk = build_desk(settings)
    try:
        with desk.reading() as session:
            found = session.exec(
                select(col(Message.message_id)).where(col(Message.direction) == "in")
            ).all()
    finally:
        desk.engine.dispose()
    return {m.strip("<>") for m in found if m}


async def test_a_backup_during_intake_holds_every_mail_answered_before_it(
    tmp_path: Path,
) -> None:
    live = place(tmp_path, "live")
    desk = build_desk(live)
    server = await start_listener(desk, host="127.0.0.1", port=0, clock=utcnow)
    answered: list[str] = []
    stop, enough = asyncio.Event(), asyncio.Event()

    async def sender(number: int) -> None:
        while not stop.is_set():
            raw = build_mail(sender=f"Afzender {number} <a{number}@example.nl>")
            await aiosmtplib.send(
                raw,
                hostname="127.0.0.1",
                port=bound_port(server),
                sender=f"a{number}@example.nl",
                recipients=[MAILBOX],
            )
            answered.append(message_id_of(raw))  # answered 250: stored
            if len(answered) >= 15:
                enough.set()

    senders = [asyncio.create_task(sender(n)) for n in range(3)]
    try:
        await enough.wait()
        before = set(answered)
        manifest = await asyncio.to_thread(take_backup, live, tmp_path / "backup", now=T0)
        during = len(answered) - len(before)
    finally:
        stop.set()
        await asyncio.gather(*senders, return_exceptions=True)
        await close_listener(server)
        desk.engine.dispose()
    print(f"answered before the backup: {len(before)}; during it: {during}")
    assert manifest.backend == "sqlite" and manifest.audit_events > 0
    assert json.loads((tmp_path / "backup" / MANIFEST).read_text())["database_sha256"]

    target = place(tmp_path, "restored")
    put_keys_back(live, target)
    restored = restore_backup(target, tmp_path / "backup")
    assert restored.audit_events == manifest.audit_events
    found = stored_ids(target)
    assert before <= found, sorted(before - found)


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[Settings, Path]:
    live = place(tmp_path, "live")
    desk = build_desk(live)
    process_message(desk, build_mail(), now=T0, source="test")
    desk.engine.dispose()
    take_backup(live, tmp_path / "backup", now=T0)
    return live, tmp_path / "backup"


def test_the_manifest_names_the_keys_by_fingerprint_never_the_key(
    backed_up: tuple[Settings, Path],
) -> None:
    live, folder = backed_up
    text = (folder / MANIFEST).read_text()
    manifest = Manifest.read(folder)
    key = live.encryption_key.get_secret_value()
    audit_key = (live.var_dir / "audit.key").read_text().strip()
    assert key not in text and audit_key not in text
    assert manifest.key_fingerprints == [hashlib.sha256(key.encode()).hexdigest()]
    assert manifest.audit_key_fingerprint == hashlib.sha256(audit_key.encode()).hexdigest()
    assert sorted(p.name for p in folder.iterdir()) == ["dsr.db", MANIFEST]
    assert (folder / "dsr.db").stat().st_mode & 0o077 == 0
    with pytest.raises(BackupError, match="not empty"):
        take_backup(live, folder, now=T0)


def test_restore_refuses_a_target_that_is_not_empty(
    backed_up: tuple[Settings, Path], tmp_path: Path
) -> None:
    live, folder = backed_up
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(live, folder)  # the live installation itself
    target = place(tmp_path, "other")
    put_keys_back(live, target)
    (target.var_dir / "notes.txt").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(target, folder)


def test_restore_refuses_another_key(backed_up: tuple[Settings, Path], tmp_path: Path) -> None:
    live, folder = backed_up
    target = place(tmp_path, "other", encryption_key=generate_key())
    put_keys_back(live, target)
    with pytest.raises(BackupError, match="missing key fingerprint"):
        restore_backup(target, folder)
    assert not Path(f"{target.var_dir}/dsr.db").exists()
    without_audit_key = place(tmp_path, "third")
    with pytest.raises(BackupError, match="audit chain key"):
        restore_backup(without_audit_key, folder)


def test_restore_finds_a_tampered_audit_trail(
    backed_up: tuple[Settings, Path], tmp_path: Path
) -> None:
    live, folder = backed_up
    with sqlite3.connect(folder / "dsr.db") as db:
        db.execute("UPDATE audit_event SET actor = 'someone-else' WHERE id = 1")
    db.close()
    manifest = Manifest.read(folder)
    data = {**manifest.__dict__, "database_sha256": file_sha256(folder / "dsr.db")}
    (folder / MANIFEST).write_text(json.dumps(data))
    target = place(tmp_path, "other")
    put_keys_back(live, target)
    with pytest.raises(BackupError, match="audit trail is broken at event 1"):
        restore_backup(target, folder)


def test_a_damaged_copy_is_refused(backed_up: tuple[Settings, Path], tmp_path: Path) -> None:
    live, folder = backed_up
    with (folder / "dsr.db").open("ab") as handle:
        handle.write(b"\0")
    target = place(tmp_path, "other")
    put_keys_back(live, target)
    with pytest.raises(BackupError, match="differs from the manifest"):
        restore_backup(target, folder)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    captured = capsys.readouterr()
    return int(exit_.value.code or 0), captured.out, captured.err


def test_the_commands_back_up_and_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_SMTP_LISTEN", "")
    build_desk(make_settings("sqlite:///./var/dsr.db", tmp_path, var_dir="./var")).engine.dispose()
    code, out, err = run(["backup", "--output", "saved"], capsys)
    assert code == 0, err
    assert "backup in saved" in out and "fingerprint" in out
    code, _, err = run(["restore", "saved"], capsys)
    assert code == 1 and "not empty" in err
    monkeypatch.setenv("DSR_VAR_DIR", "./new")
    monkeypatch.setenv("DSR_DATABASE_URL", "sqlite:///./new/dsr.db")
    (tmp_path / "new").mkdir(mode=0o700)
    shutil.copy2(tmp_path / "var" / "audit.key", tmp_path / "new" / "audit.key")
    code, out, err = run(["restore", "saved"], capsys)
    assert code == 0, err
    assert "audit trail is intact" in out


def test_on_postgresql_it_checks_the_key_and_says_to_use_pg_dump(
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    monkeypatch.setenv("DSR_SMTP_LISTEN", "")
    build_desk(make_settings(postgres_url, tmp_path, var_dir="./var", db_auto_upgrade=True))
    code, out, err = run(["backup", "--output", "saved"], capsys)
    assert code == 0, err
    assert "pg_dump" in out
    assert Manifest.read(tmp_path / "saved").backend == "postgresql"
    monkeypatch.setenv("DSR_ENCRYPTION_KEY", generate_key())
    code, _, err = run(["backup", "--output", "again"], capsys)
    assert code != 0 and "DSR_ENCRYPTION_KEY" in err
    code, _, err = run(["restore", "saved"], capsys)
    assert code == 1 and "pg_restore" in err

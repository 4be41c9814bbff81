"""Encryption at rest: sealed columns, the key check at start-up, key rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from bot.keys import EncryptionKeyError, load_audit_chain, load_sealer
from bot.register import import_register, look_up
from bot.rotation import rotate_keys
from handlers.runtime import build_desk
from storage.audit import iter_events
from storage.sealing import generate_key
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail

SECRET_WORDS = (b"jan.jansen", b"Inzageverzoek", b"persoonsgegevens", b"Jan Jansen")


def _desk(db_url: str, tmp_path: Path, key: str) -> Desk:
    return build_desk(make_settings(db_url, tmp_path, encryption_key=key, db_auto_upgrade="true"))


def _stored_bytes(desk: Desk) -> bytes:
    """Everything in the personal columns as the database holds it."""
    queries = (
        "SELECT raw, subject, sender FROM message",
        "SELECT requester, requester_key FROM dsr_case",
        "SELECT payload, recipient FROM outbox",
        "SELECT email, name, email_key FROM known_person",
        "SELECT secret, sent_to FROM identity_check",
    )
    chunks = []
    with desk.engine.connect() as connection:
        for query in queries:
            for row in connection.execute(text(query)):
                chunks += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    return b"\n".join(chunks)


def test_bodies_subjects_and_addresses_are_ciphertext_at_rest(db_url: str, tmp_path: Path) -> None:
    desk = _desk(db_url, tmp_path, generate_key())
    import_register(desk, text="name,email\nJan Jansen,jan.jansen@example.nl\n", actor="t", now=T0)
    result = process_message(desk, build_mail(), now=T0, source="test")
    stored = _stored_bytes(desk)
    assert result.action == "created" and len(stored) > 1000
    for word in SECRET_WORDS:
        assert word not in stored
    case = core.get_case(desk, reference=result.case or "")
    assert case.requester == "jan.jansen@example.nl"


def test_a_wrong_key_stops_start_up_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    _desk(db_url, tmp_path, generate_key())
    with pytest.raises(EncryptionKeyError, match="written with another key"):
        _desk(db_url, tmp_path, generate_key())


def test_postgresql_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    settings = make_settings("postgresql+psycopg://u@127.0.0.1/x", tmp_path, encryption_key="")
    with pytest.raises(EncryptionKeyError, match="required with PostgreSQL"):
        load_sealer(settings)


def test_a_malformed_key_is_named(tmp_path: Path) -> None:
    settings = make_settings("sqlite:///x.db", tmp_path, encryption_key="not-a-key")
    with pytest.raises(EncryptionKeyError, match="DSR_ENCRYPTION_KEY: not a Fernet key"):
        load_sealer(settings)


def test_embedded_default_generates_a_private_key_once(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, encryption_key="")
    first = load_sealer(settings)
    key_file = settings.var_dir / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_sealer(settings).open(first.seal(b"x")) == b"x"


def test_rotation_re_seals_under_the_new_key_and_keeps_lookups(db_url: str, tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    desk = _desk(db_url, tmp_path, old)
    import_register(desk, text="name,email\nAnna,anna@example.nl\n", actor="t", now=T0)
    result = process_message(desk, build_mail(), now=T0, source="test")
    report = rotate_keys(_desk(db_url, tmp_path, f"{new},{old}"))
    assert report.values > 5
    only_new = _desk(db_url, tmp_path, new)
    assert core.get_case(only_new, reference=result.case or "").requester.startswith("jan")
    assert look_up(only_new, address="ANNA@example.nl", actor="t", now=T0) is not None
    with pytest.raises(EncryptionKeyError):
        _desk(db_url, tmp_path, old)
    assert core.get_case(only_new, reference=result.case or "").evidence


PASSPORT, BSN, NAME_NOTE = "NL1234AB5", "123456782", "Gebeld met Jan Jansen"


def test_notes_reasons_evidence_and_audit_notes_are_ciphertext_at_rest(
    db_url: str, tmp_path: Path
) -> None:
    desk = _desk(db_url, tmp_path, generate_key())
    reference = process_message(desk, build_mail(), now=T0, source="test").case or ""
    core.verify_by_hand(
        desk, reference=reference, note=f"paspoort {PASSPORT}, BSN {BSN}", actor="t", now=T0
    )
    core.extend(desk, reference=reference, reasons=f"{NAME_NOTE}: veel systemen", actor="t", now=T0)
    core.close(desk, reference=reference, outcome="done", note=NAME_NOTE, actor="t", now=T0)
    case = core.get_case(desk, reference=reference)
    assert case.evidence and case.outcome_note == NAME_NOTE
    stored = b""
    with desk.engine.connect() as connection:
        for query in (
            "SELECT outcome_note, extension_reason, evidence FROM dsr_case",
            "SELECT details, note FROM audit_event",
        ):
            for row in connection.execute(text(query)):
                stored += b"\n".join(str(v).encode() for v in row)
    for secret in (PASSPORT, BSN, NAME_NOTE, *case.evidence):
        assert secret.encode() not in stored, secret
    with desk.transaction() as session:
        notes = [e.note for e in iter_events(session=session) if e.note]
    assert notes == [f"paspoort {PASSPORT}, BSN {BSN}", NAME_NOTE]


@pytest.mark.parametrize("name", ["encryption.key", "audit.key"])
def test_a_key_file_others_can_read_is_refused(name: str, sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, encryption_key="")
    load_sealer(settings), load_audit_chain(settings)
    key_file = settings.var_dir / name
    key_file.chmod(0o644)
    load = load_sealer if name == "encryption.key" else load_audit_chain
    with pytest.raises(EncryptionKeyError) as refused:
        load(settings)
    assert str(key_file) in str(refused.value) and f"chmod 600 {key_file}" in str(refused.value)


def test_the_var_folder_is_made_private(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, encryption_key="")
    settings.var_dir.mkdir(mode=0o755)
    settings.var_dir.chmod(0o755)
    chain = load_audit_chain(settings)
    assert stat.S_IMODE(settings.var_dir.stat().st_mode) == 0o700
    assert chain.head_file == settings.var_dir / "audit.head" and len(chain.key) == 64

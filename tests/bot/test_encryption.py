"""Encryption at rest: sealed columns, the key check at start-up, key rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from bot.keys import EncryptionKeyError, load_sealer
from bot.register import import_register, look_up
from bot.rotation import rotate_keys
from handlers.runtime import build_desk
from storage.sealing import generate_key
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail

SECRET_WORDS = (b"jan.jansen", b"Inzageverzoek", b"persoonsgegevens", b"Jan Jansen")


def _desk(db_url: str, tmp_path: Path, key: str) -> Desk:
    return build_desk(
        make_settings(db_url, tmp_path, DSR_ENCRYPTION_KEY=key, DSR_DB_AUTO_UPGRADE="true")
    )


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
    settings = make_settings("postgresql+psycopg://u@127.0.0.1/x", tmp_path, DSR_ENCRYPTION_KEY="")
    with pytest.raises(EncryptionKeyError, match="required with PostgreSQL"):
        load_sealer(settings)


def test_a_malformed_key_is_named(tmp_path: Path) -> None:
    settings = make_settings("sqlite:///x.db", tmp_path, DSR_ENCRYPTION_KEY="not-a-key")
    with pytest.raises(EncryptionKeyError, match="DSR_ENCRYPTION_KEY: not a Fernet key"):
        load_sealer(settings)


def test_embedded_default_generates_a_private_key_once(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, DSR_ENCRYPTION_KEY="")
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

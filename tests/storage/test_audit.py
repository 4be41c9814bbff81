import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from storage.audit import (
    GENESIS,
    KEYED,
    PLAIN,
    ChainHead,
    append_event,
    clear_notes,
    iter_events,
    key_legacy_chain,
    read_head,
    verify_chain,
)
from storage.engine import AuditChain, make_engine, transaction
from storage.migrate import upgrade
from storage.sealing import FernetSealer, generate_key

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _fill(engine: Engine, count: int) -> None:
    for i in range(count):
        with transaction(engine) as session:
            append_event(
                session=session,
                at=T + timedelta(minutes=i),
                actor="system",
                action="test",
                details={"i": i},
            )


def test_an_untouched_chain_verifies(engine: Engine) -> None:
    _fill(engine, 5)
    with transaction(engine) as session:
        assert verify_chain(session=session) == (5, None)


def test_editing_a_row_by_hand_is_detected_at_that_row(engine: Engine) -> None:
    _fill(engine, 5)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE id = 3"))
    with transaction(engine) as session:
        _, broken = verify_chain(session=session)
    assert broken is not None and broken.event_id == 3
    assert "content" in broken.problem


def test_deleting_a_row_by_hand_is_detected_at_the_next_row(engine: Engine) -> None:
    _fill(engine, 5)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = 2"))
    with transaction(engine) as session:
        _, broken = verify_chain(session=session)
    assert broken is not None and broken.event_id == 3
    assert "previous" in broken.problem


def test_what_is_hashed_is_stored_when_the_caller_changes_its_details_later(
    engine: Engine,
) -> None:
    notes: list[str] = []
    with transaction(engine) as session:
        append_event(session=session, at=T, actor="system", action="a", details={"n": notes})
        notes.append("added after the event")
        append_event(session=session, at=T, actor="system", action="b")
    with transaction(engine) as session:
        assert verify_chain(session=session) == (2, None)


def test_events_of_a_rolled_back_transaction_are_not_written(engine: Engine) -> None:
    _fill(engine, 2)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        append_event(session=session, at=T, actor="system", action="lost")
        raise RuntimeError("crash before commit")
    _fill(engine, 1)
    with transaction(engine) as session:
        assert verify_chain(session=session) == (3, None)


def _keyed(url: str, head_file: Path) -> Engine:
    engine = make_engine(url, audit=AuditChain(key=b"k" * 32, head_file=head_file))
    upgrade(engine)
    return engine


def test_removing_the_last_rows_is_detected_through_the_recorded_head(
    db_url: str, tmp_path: Path
) -> None:
    head_file = tmp_path / "audit.head"
    engine = _keyed(db_url, head_file)
    _fill(engine, 5)
    head = read_head(head_file)
    assert head is not None and head.event_id == 5
    with transaction(engine) as session:
        assert verify_chain(session=session, head=head) == (5, None)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id > 3"))
    with transaction(engine) as session:
        count, broken = verify_chain(session=session, head=head)
    assert count == 3 and broken is not None and "missing at the end" in broken.problem
    engine.dispose()


def test_a_second_database_sharing_the_head_file_cannot_move_it(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The demo, or any other database whose files share the folder, once wrote its own head
    into the real trail's head file: the real trail then looked truncated."""
    head_file = tmp_path / "audit.head"
    real = _keyed(db_url, head_file)
    _fill(real, 3)
    other = _keyed(f"sqlite:///{tmp_path}/other.db", head_file)
    with caplog.at_level(logging.ERROR, logger="dsr.audit"):
        with transaction(other) as session:  # its own first event: another trail
            append_event(session=session, at=T, actor="demo", action="test")
        _fill(other, 7)
    assert "records the trail of another database" in caplog.text
    head = read_head(head_file)
    assert head is not None and head.event_id == 3
    with transaction(real) as session:
        assert verify_chain(session=session, head=head) == (3, None)
    with transaction(other) as session:
        _, broken = verify_chain(session=session, head=head)
    assert broken is not None and "another trail" in broken.problem
    with real.begin() as connection:  # truncation of the real trail still shows
        connection.execute(text("DELETE FROM audit_event WHERE id > 1"))
    with transaction(real) as session:
        _, broken = verify_chain(session=session, head=head)
    assert broken is not None and "missing at the end" in broken.problem
    real.dispose()
    other.dispose()


def test_a_head_file_written_before_it_named_its_trail_is_taken_over_by_the_next_commit(
    db_url: str, tmp_path: Path
) -> None:
    head_file = tmp_path / "audit.head"
    engine = _keyed(db_url, head_file)
    _fill(engine, 2)
    before = read_head(head_file)
    assert before is not None and before.first
    head_file.write_text(before.line() + "\n", encoding="ascii")
    _fill(engine, 1)
    after = read_head(head_file)
    assert after is not None and (after.event_id, after.first) == (3, before.first)
    assert ChainHead.parse(before.line()) == ChainHead(2, before.hash)


def _plain_sha256(prev: str, row: Any) -> str:
    """The chain as it was computed before it was keyed: SHA-256 over the row's content."""
    body = {
        "prev": prev,
        "at": row.at.isoformat() if isinstance(row.at, datetime) else row.at,
        "actor": row.actor,
        "action": row.action,
        "case_id": row.case_id,
        "reference": row.reference,
        "details": json.loads(row.details) if isinstance(row.details, str) else row.details,
    }
    text_ = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text_.encode()).hexdigest()


def _rewrite_as_sha256_chain(engine: Engine, *, scheme: int | None) -> None:
    """An edit of row 3, then every hash recomputed as plain SHA-256 (no key needed)."""
    with transaction(engine) as session:
        rows = list(iter_events(session=session))
    with engine.begin() as connection:
        prev = GENESIS
        for row in rows:
            if row.id == 3:
                row.actor = "mallory"
            digest = _plain_sha256(prev, row)
            connection.execute(
                text(
                    "UPDATE audit_event SET actor = :a, prev_hash = :p, hash = :h, "
                    "scheme = coalesce(:s, scheme) WHERE id = :i"
                ),
                {"a": row.actor, "p": prev, "h": digest, "s": scheme, "i": row.id},
            )
            prev = digest


def test_an_edit_with_the_sha256_chain_recomputed_is_detected(db_url: str, tmp_path: Path) -> None:
    engine = _keyed(db_url, tmp_path / "audit.head")
    _fill(engine, 5)
    _rewrite_as_sha256_chain(engine, scheme=None)
    with transaction(engine) as session:
        _, broken = verify_chain(session=session)
    assert broken is not None and broken.event_id == 1 and "content" in broken.problem
    engine.dispose()


def test_an_edit_passed_off_as_an_old_unkeyed_chain_misses_the_recorded_head(
    db_url: str, tmp_path: Path
) -> None:
    head_file = tmp_path / "audit.head"
    engine = _keyed(db_url, head_file)
    _fill(engine, 5)
    _rewrite_as_sha256_chain(engine, scheme=PLAIN)
    with transaction(engine) as session:
        _, broken = verify_chain(session=session, head=read_head(head_file))
    assert broken is not None and broken.event_id == 5 and "recorded head" in broken.problem
    engine.dispose()


def test_a_note_is_sealed_and_can_be_cleared_without_breaking_the_chain(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url, sealer=FernetSealer([generate_key()]))
    upgrade(engine)
    with transaction(engine) as session:
        session.execute(
            text(
                "INSERT INTO dsr_case (id, reference, state, category, also, confidence, "
                "needs_triage, evidence, language, requester, requester_key, received_at, due, "
                "flags, created_at, updated_at, version) VALUES (1, 'DSR-2026-0001', 'open', "
                "'access', '[]', 1, false, :e, 'nl', :r, '', :t, '2026-07-01', '[]', :t, :t, 1)"
            ),
            {"e": FernetSealer([generate_key()]).seal(b"[]").decode(), "r": "x", "t": T},
        )
    with transaction(engine) as session:
        append_event(
            session=session, at=T, actor="u", action="verified", case_id=1, note="BSN 123456782"
        )
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT note, details FROM audit_event")).one()
    assert "123456782" not in str(stored)
    with transaction(engine) as session:
        assert next(iter_events(session=session)).note == "BSN 123456782"
        clear_notes(session=session, case_id=1)
    with transaction(engine) as session:
        assert next(iter_events(session=session)).note is None
        assert verify_chain(session=session) == (1, None)
    engine.dispose()


def test_the_commit_hook_leaves_sessions_of_other_code_alone(engine: Engine) -> None:
    with Session(engine) as session:
        append_event(session=session, at=T, actor="system", action="elsewhere")
        session.commit()
    with transaction(engine) as session:
        assert verify_chain(session=session) == (0, None)


def test_a_trail_from_before_the_key_is_keyed_once_and_its_notes_sealed(
    db_url: str, tmp_path: Path
) -> None:
    engine = _keyed(db_url, tmp_path / "audit.head")
    _fill(engine, 3)
    with engine.begin() as connection:
        connection.execute(text('UPDATE audit_event SET details = \'{"note": "BSN 1"}\''))
    _rewrite_as_sha256_chain(engine, scheme=PLAIN)  # as the rows were before migration 0005
    with transaction(engine) as session:
        assert key_legacy_chain(session=session) == 3
    with transaction(engine) as session:
        events = list(iter_events(session=session))
        assert verify_chain(session=session) == (3, None)
        assert key_legacy_chain(session=session) == 0
    assert [(e.scheme, e.note, e.details) for e in events] == [(KEYED, "BSN 1", {})] * 3
    engine.dispose()


def test_a_forged_plain_trail_is_not_keyed(db_url: str, tmp_path: Path) -> None:
    engine = _keyed(db_url, tmp_path / "audit.head")
    _fill(engine, 3)
    _rewrite_as_sha256_chain(engine, scheme=PLAIN)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET actor = 'eve' WHERE id = 2"))
    with transaction(engine) as session:
        assert key_legacy_chain(session=session) == 0
        _, broken = verify_chain(session=session)
    assert broken is not None and broken.event_id == 2
    engine.dispose()

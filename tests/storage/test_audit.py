from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from storage.audit import append_event, verify_chain
from storage.engine import transaction

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

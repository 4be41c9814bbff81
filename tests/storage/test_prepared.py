"""Prepared statements (storage/prepared.py): run on the driver, yet the same SQL, the same
value conversion (sealing) and the same errors as a statement run through SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, insert, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.engine import make_engine, transaction
from storage.migrate import upgrade
from storage.models import Message
from storage.prepared import Prepared
from storage.sealing import FernetSealer, generate_key

T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ADD = Prepared(insert(Message))
SUBJECT = Prepared(
    select(col(Message.subject), col(Message.action), col(Message.at)).where(
        col(Message.dedupe_key) == bindparam("key")
    )
)


def _row(key: str, subject: str = "Verzoek om inzage") -> dict[str, object]:
    """Every column but those with a Python default of their own (action, reason)."""
    return {
        "direction": "in",
        "dedupe_key": key,
        "message_id": f"<{key}@example.nl>",
        "at": T,
        "subject": subject,
        "sender": "anna@example.nl",
        "size": 10,
        "raw": b"From: anna@example.nl\r\n\r\nhoi\r\n",
        "flags": [],
    }


def _sealed_engine(url: str, key: str) -> Engine:
    engine = make_engine(url, sealer=FernetSealer([key]))
    upgrade(engine)
    return engine


def test_values_go_through_the_column_types_both_ways(db_url: str) -> None:
    engine = _sealed_engine(db_url, generate_key())
    try:
        with transaction(engine) as session:
            ADD.run(session, _row("a"))
        with transaction(engine) as session:
            assert SUBJECT.rows(session, {"key": "a"}) == [("Verzoek om inzage", "", T)]
            stored = session.connection().execute(
                text("SELECT subject FROM message WHERE dedupe_key = 'a'")
            )
            assert "inzage" not in stored.scalar_one()  # sealed at rest
    finally:
        engine.dispose()


def test_a_duplicate_key_raises_sqlalchemys_integrity_error(engine: Engine) -> None:
    with transaction(engine) as session:
        ADD.run(session, _row("twice"))
    with pytest.raises(IntegrityError), transaction(engine) as session:
        ADD.run(session, _row("twice"))
    with transaction(engine) as session:
        count = session.connection().execute(text("SELECT count(*) FROM message")).scalar_one()
    assert count == 1


def test_each_engine_seals_with_its_own_key(sqlite_url: str, tmp_path: object) -> None:
    # The same statement object on two engines (key rotation opens two at once): a compiled
    # form bound to the first engine's sealer must not seal the second engine's rows.
    first = _sealed_engine(sqlite_url, generate_key())
    second = _sealed_engine(f"sqlite:///{tmp_path}/second.db", generate_key())
    try:
        for engine, key in ((first, "one"), (second, "two")):
            with transaction(engine) as session:
                ADD.run(session, _row(key, subject=f"subject {key}"))
        # Read back through SQLAlchemy itself, which opens with each engine's own sealer.
        for engine, key in ((first, "one"), (second, "two")):
            with transaction(engine) as session:
                subject = session.exec(
                    select(col(Message.subject)).where(col(Message.dedupe_key) == key)
                ).one()
            assert subject == f"subject {key}"
    finally:
        first.dispose()
        second.dispose()


def test_run_many_writes_every_row_in_one_call(engine: Engine) -> None:
    with transaction(engine) as session:
        ADD.run_many(session, [_row("m1"), _row("m2"), _row("m3")])
        ADD.run_many(session, [])
    with transaction(engine) as session:
        keys = session.connection().execute(text("SELECT dedupe_key FROM message ORDER BY id"))
        assert list(keys.scalars()) == ["m1", "m2", "m3"]


def test_a_statement_with_a_list_parameter_is_refused(engine: Engine) -> None:
    listed = Prepared(
        select(col(Message.id)).where(
            col(Message.dedupe_key).in_(bindparam("keys", expanding=True))
        )
    )
    with transaction(engine) as session, pytest.raises(ValueError, match="no lists"):
        listed.rows(session, {"keys": ["a", "b"]})


def test_scalar_is_none_without_a_row(engine: Engine) -> None:
    with transaction(engine) as session:
        assert SUBJECT.scalar(session, {"key": "nothing"}) is None

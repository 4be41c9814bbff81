from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from storage.engine import transaction
from storage.models import OutboxItem
from storage.outbox import add_item, add_items

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row(key: str, payload: bytes = b"x") -> dict[str, Any]:
    return {
        "channel": "slack",
        "kind": "reminder",
        "dedupe_key": key,
        "recipient": "",
        "payload": payload,
        "created_at": T,
        "next_attempt_at": T,
    }


def test_a_key_already_queued_is_skipped(engine: Engine) -> None:
    with transaction(engine) as session:
        assert add_item(session=session, row=row("k1")) is True
        assert add_item(session=session, row=row("k1", b"again")) is False
    with transaction(engine) as session:
        assert add_item(session=session, row=row("k1")) is False
        items = session.exec(select(OutboxItem)).all()
    assert [(i.dedupe_key, i.payload, i.state, i.attempts) for i in items] == [
        ("k1", b"x", "pending", 0)
    ]


def test_many_rows_are_queued_in_order_each_key_once(engine: Engine) -> None:
    with transaction(engine) as session:
        add_item(session=session, row=row("k3"))
    rows = [row(f"k{n}") for n in range(50)] + [row("k7", b"repeated")]
    with transaction(engine) as session:
        assert add_items(session=session, rows=rows) == 49
        items = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
    keys = [i.dedupe_key for i in items]
    assert keys == ["k3"] + [f"k{n}" for n in range(50) if n != 3]
    assert {i.payload for i in items} == {b"x"}

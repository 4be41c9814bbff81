from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage.engine import transaction
from storage.outbox import add_item, claim_due, release_claims

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_released_claims_are_due_again_at_once(engine: Engine) -> None:
    with transaction(engine) as session:
        add_item(
            session=session,
            row={
                "channel": "mail",
                "kind": "auto.ack",
                "dedupe_key": "k1",
                "recipient": "",
                "payload": b"x",
                "created_at": T,
                "next_attempt_at": T,
            },
        )
    with transaction(engine) as session:
        assert (
            len(
                claim_due(
                    session=session, channel="mail", now=T, limit=5, lease=timedelta(minutes=10)
                )
            )
            == 1
        )
    with transaction(engine) as session:
        assert (
            claim_due(session=session, channel="mail", now=T, limit=5, lease=timedelta(minutes=10))
            == []
        )
        assert release_claims(session=session) == 1
    with transaction(engine) as session:
        again = claim_due(
            session=session, channel="mail", now=T, limit=5, lease=timedelta(minutes=10)
        )
    assert [i.dedupe_key for i in again] == ["k1"] and again[0].attempts == 2

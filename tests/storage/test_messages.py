"""Stored mail through the public Core/ORM API: sealed on the way in, opened on the way out,
and a second copy of a dedupe key refused as SQLAlchemy's IntegrityError."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.engine import make_engine, transaction
from storage.messages import add_message, find_stored, is_our_message_id
from storage.migrate import upgrade
from storage.models import Message
from storage.sealing import FernetSealer, generate_key

T = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_a_mail_is_sealed_at_rest_and_found_by_its_dedupe_key(db_url: str) -> None:
    engine = make_engine(db_url, sealer=FernetSealer([generate_key()]))
    upgrade(engine)
    with transaction(engine) as session:
        add_message(
            session=session,
            direction="out",
            dedupe_key="<a@x>",
            message_id="<a@x>",
            at=T,
            raw=b"Beste Jan Jansen",
            subject="Uw verzoek",
            flags=["ack"],
        )
    with transaction(engine) as session:
        stored = find_stored(session=session, direction="out", dedupe_key="<a@x>")
        assert stored is not None and stored.reference is None
        assert is_our_message_id(session=session, message_id="<a@x>")
        assert not is_our_message_id(session=session, message_id="<b@x>")
        message = session.exec(select(Message)).one()
        assert (message.raw, message.subject, message.at) == (b"Beste Jan Jansen", "Uw verzoek", T)
    with engine.connect() as connection:
        raw, subject = connection.execute(text("SELECT raw, subject FROM message")).one()
    assert b"Jan" not in bytes(raw) and "verzoek" not in subject
    engine.dispose()


def test_a_second_copy_of_a_dedupe_key_raises_integrity_error(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(engine) as session:
        add_message(session=session, direction="in", dedupe_key="k", at=T, raw=b"x")
    with pytest.raises(IntegrityError), transaction(engine) as session:
        add_message(session=session, direction="in", dedupe_key="k", at=T, raw=b"y")
    engine.dispose()

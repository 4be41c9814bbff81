"""The IMAP cursor shared by instances polling one mailbox: created once, only forward."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from storage.imap_cursor import get_cursor, save_cursor

BOX = "secretariaat@mail.example.nl/INBOX"


def test_a_slower_instance_never_moves_the_cursor_back(engine: Engine) -> None:
    with Session(engine) as first, Session(engine) as second:
        save_cursor(session=first, mailbox=BOX, uidvalidity=7, last_uid=10)
        first.commit()
        # A second instance that read the folder earlier saves its first cursor too.
        save_cursor(session=second, mailbox=BOX, uidvalidity=7, last_uid=4)
        second.commit()
    with Session(engine) as session:
        cursor = get_cursor(session=session, mailbox=BOX)
        assert cursor is not None and (cursor.uidvalidity, cursor.last_uid) == (7, 10)
        save_cursor(session=session, mailbox=BOX, uidvalidity=7, last_uid=12)
        assert cursor.last_uid == 12


def test_a_new_uidvalidity_replaces_the_cursor(engine: Engine) -> None:
    with Session(engine) as session:
        save_cursor(session=session, mailbox=BOX, uidvalidity=7, last_uid=10)
        cursor = save_cursor(session=session, mailbox=BOX, uidvalidity=8, last_uid=0)
        session.commit()
        assert (cursor.uidvalidity, cursor.last_uid) == (8, 0)

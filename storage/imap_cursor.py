"""Where the IMAP poller stands per mailbox folder: (UIDVALIDITY, last handled UID).

Several instances may poll one shared mailbox; they meet here. The row is created with
ON CONFLICT DO NOTHING and then locked, so a concurrent first save is not an error, and within
one UIDVALIDITY the cursor only moves forward (a slower instance never moves it back)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.engine import insert_for
from storage.models import ImapCursor


def get_cursor(*, session: Session, mailbox: str) -> ImapCursor | None:
    return session.get(ImapCursor, mailbox)


def save_cursor(*, session: Session, mailbox: str, uidvalidity: int, last_uid: int) -> ImapCursor:
    """Insert or advance the folder's cursor in the caller's transaction; a new UIDVALIDITY
    replaces it (a rescan from `last_uid`)."""
    dialect = session.get_bind().dialect.name
    insert = insert_for(dialect)
    session.connection().execute(
        insert(ImapCursor)
        .values(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last_uid)
        .on_conflict_do_nothing(index_elements=["mailbox"])
    )
    cursor = session.exec(
        select(ImapCursor)
        .where(ImapCursor.mailbox == mailbox)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if cursor.uidvalidity == uidvalidity:
        cursor.last_uid = max(cursor.last_uid, last_uid)
    else:
        cursor.uidvalidity, cursor.last_uid = uidvalidity, last_uid
    session.add(cursor)
    session.flush()
    return cursor

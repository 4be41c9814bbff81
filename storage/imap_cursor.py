"""Where the IMAP poller stands per mailbox folder: (UIDVALIDITY, last handled UID)."""

from __future__ import annotations

from sqlmodel import Session

from storage.models import ImapCursor


def get_cursor(*, session: Session, mailbox: str) -> ImapCursor | None:
    return session.get(ImapCursor, mailbox)


def save_cursor(*, session: Session, mailbox: str, uidvalidity: int, last_uid: int) -> ImapCursor:
    """Insert or overwrite the folder's cursor in the caller's transaction."""
    cursor = session.get(ImapCursor, mailbox)
    if cursor is None:
        cursor = ImapCursor(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last_uid)
    else:
        cursor.uidvalidity = uidvalidity
        cursor.last_uid = last_uid
    session.add(cursor)
    session.flush()
    return cursor

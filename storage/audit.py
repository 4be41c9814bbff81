"""The audit trail: append-only rows chained by a keyed hash.

Each row holds HMAC-SHA256, under a key kept outside the database, over its content and the
previous row's hash: someone who can write the database but not read the key cannot recompute
the chain after editing a row. After each commit that extends the chain its head (last id and
hash) is recorded in a file beside the key (and the daily digest carries it), so removing the
last rows shows too. The file also names the trail it belongs to (the hash of its first event):
a second database whose files share the folder cannot move it. A free-text note is sealed and
enters the hash through its keyed digest (`note_mac`), so the retention purge can clear it and
the chain still verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text, update
from sqlalchemy.event import listens_for
from sqlmodel import Session, col, select

from storage.engine import DeskSession, engine_audit
from storage.models import AuditEvent

logger = logging.getLogger("dsr.audit")
GENESIS = "0" * 64
PLAIN, KEYED = 1, 2  # AuditEvent.scheme
_CHAIN_LOCK = 0x44535201  # PostgreSQL advisory lock id serialising appends to the chain
_CHAIN = "dsr_audit_chain"
_HEAD = (
    select(col(AuditEvent.id), col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1)
)
_FIRST = select(col(AuditEvent.hash)).order_by(col(AuditEvent.id)).limit(1)
_TABLE: Table = AuditEvent.__table__  # type: ignore[attr-defined]
# On the table (Core): plain INSERTs, without the ORM's bulk-insert machinery.
_APPEND_ONE = insert(_TABLE).returning(_TABLE.c.id)
_APPEND = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


@dataclass(frozen=True)
class ChainHead:
    """The last event of the chain: its id and hash; `first`, the hash of the chain's first
    event, says which trail it is the head of (empty when not known, as in a digest)."""

    event_id: int
    hash: str
    first: str = ""

    def line(self) -> str:
        return f"{self.event_id} {self.hash}"

    def record(self) -> str:
        """The head file's line: the head, and the trail it belongs to."""
        return f"{self.line()} {self.first}" if self.first else self.line()

    @classmethod
    def parse(cls, line: str) -> ChainHead:
        event_id, digest, *rest = line.split()
        first = rest[0] if len(rest) == 1 else ""
        if len(rest) > 1 or not event_id.isdigit() or {len(digest), len(first) or 64} != {64}:
            raise ValueError(f"not an audit chain head: {line!r}")
        return cls(int(event_id), digest, first)


class HeadOfAnotherTrail(Exception):
    """The head file records the head of another trail (another database's)."""


def _content(
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    case_id: int | None,
    reference: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "prev": prev_hash,
        "at": at.isoformat(),
        "actor": actor,
        "action": action,
        "case_id": case_id,
        "reference": reference,
        "details": details,
    }


def _encode(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def _digest(key: bytes, scheme: int, prev_hash: str, note_mac: str, **fields: Any) -> str:
    content = _content(prev_hash, **fields)
    if scheme == PLAIN:
        return hashlib.sha256(_encode(content)).hexdigest()
    content["note"] = note_mac
    return hmac.new(key, _encode(content), "sha256").hexdigest()


def note_digest(key: bytes, note: str) -> str:
    """The keyed digest of a note: it stays in the chain when the purge clears the note, and
    without the key it cannot be matched against guesses (a BSN has only 10**9 values)."""
    return hmac.new(key, b"note:" + note.encode(), "sha256").hexdigest()


@dataclass
class _Chain:
    """The chain as one transaction extends it: its end, and the events to write at commit."""

    transaction: object
    head: str
    rows: list[dict[str, Any]]
    written: ChainHead | None = None


def append_event(
    *,
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    case_id: int | None = None,
    reference: str | None = None,
    details: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Add one event in the caller's transaction (it commits together with the change).

    `details` holds facts without personal data (states, dates, kinds); free text a person
    typed (how an identity was checked, why a case was closed) goes in `note`, which is sealed
    and cleared by the retention purge. The events of a transaction are written together just
    before it commits; nothing reads the trail inside the transaction that extends it.
    """
    transaction = session.get_transaction()
    chain = session.info.get(_CHAIN)
    if chain is None or chain.transaction is not transaction:
        # First event of this transaction: take the chain (PostgreSQL; SQLite write
        # transactions already hold the write lock) and read its end.
        if session.get_bind().dialect.name == "postgresql":
            # Rows first, then the chain: pending changes take their row locks before the
            # chain's lock, as in a transaction that locked its case up front; the other
            # order deadlocked two downloads of one package (tests/attacks/).
            session.flush()
            session.execute(_LOCK, {"k": _CHAIN_LOCK})
        found = session.execute(_HEAD).first()
        chain = session.info[_CHAIN] = _Chain(
            session.get_transaction(), found[1] if found else GENESIS, []
        )
    key = engine_audit(session.get_bind()).key
    # What is hashed is what is stored, whatever the caller does with `details` afterwards.
    fields: dict[str, Any] = {
        "at": at,
        "actor": actor,
        "action": action,
        "case_id": case_id,
        "reference": reference,
        "details": json.loads(json.dumps(details or {}, default=str)),
    }
    mac = note_digest(key, note) if note is not None else ""
    digest = _digest(key, KEYED, chain.head, mac, **fields)
    fields.update(note=note, note_mac=mac, scheme=KEYED, prev_hash=chain.head, hash=digest)
    chain.rows.append(fields)
    chain.head = digest


@listens_for(DeskSession, "before_commit")
def _write_events(session: Session) -> None:
    """The transaction's events, in the order they were appended (plain INSERTs: a row is
    never changed afterwards, except that the retention purge clears its note)."""
    chain = session.info.get(_CHAIN)
    if chain is None or not chain.rows or chain.transaction is not session.get_transaction():
        return
    rows, chain.rows = chain.rows, []
    if len(rows) == 1:  # the usual case, and cheaper than a batch that keeps its order
        last_id = session.execute(_APPEND_ONE, rows[0]).scalar_one()
    else:
        last_id = session.execute(_APPEND, rows).scalars().all()[-1]
    first = session.execute(_FIRST).scalar_one()
    chain.written = ChainHead(int(last_id), rows[-1]["hash"], str(first))


@listens_for(DeskSession, "after_commit")
def _record_head(session: Session) -> None:
    chain = session.info.get(_CHAIN)
    if chain is None or chain.written is None:
        return
    head, chain.written = chain.written, None
    head_file = engine_audit(session.get_bind()).head_file
    if head_file is None:
        return
    try:
        record_head(head_file, head)
    except HeadOfAnotherTrail:
        # Two databases with their files in one folder: the head stays that of the trail it
        # was recorded for, and this one is not protected until it gets a folder of its own.
        logger.error(
            "audit: %s records the trail of another database; give each database its own "
            "DSR_VAR_DIR (this trail's head is not recorded)",
            head_file,
        )
    except OSError:
        # The commit stands; the next commit writes the head again. Loud, as the file is what
        # shows rows removed from the end of the trail.
        logger.exception("audit: could not record the chain head in %s", head_file)


def read_head(path: Path) -> ChainHead | None:
    """The head recorded in `path`, or None when there is no file yet."""
    try:
        return ChainHead.parse(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return None


_RECORDING = threading.Lock()


def record_head(path: Path, head: ChainHead) -> None:
    """Write `head` (mode 0600, replaced atomically) unless the file already records a later
    event (another thread or process committed after this one). A file that records another
    trail is left alone (HeadOfAnotherTrail); a head without its trail keeps the file's."""
    with _RECORDING:
        current = read_head(path)
        if current is not None and current.first and head.first and current.first != head.first:
            raise HeadOfAnotherTrail(str(path))
        if current is not None and current.event_id >= head.event_id:
            return
        if current is not None and not head.first:
            head = ChainHead(head.event_id, head.hash, current.first)
        descriptor, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(head.record() + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def chain_head(*, session: Session) -> ChainHead | None:
    """The last event of the chain as the database holds it now."""
    found = session.execute(_HEAD).first()
    if found is None:
        return None
    return ChainHead(int(found[0]), str(found[1]), str(session.execute(_FIRST).scalar_one()))


def clear_notes(*, session: Session, case_id: int) -> None:
    """Remove the notes of a case's events (their keyed digests stay, so the chain verifies)."""
    session.execute(
        update(AuditEvent)
        .where(col(AuditEvent.case_id) == case_id)
        .where(col(AuditEvent.note).is_not(None))
        .values(note=None)
    )


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    at: datetime | None
    problem: str


def iter_events(*, session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.id) > last_id)
            .order_by(col(AuditEvent.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id or last_id


def _check(key: bytes, event: AuditEvent, expected_prev: str, keyed_seen: bool) -> str | None:
    """What is wrong with one row, or None."""
    if event.scheme not in (PLAIN, KEYED) or (event.scheme == PLAIN and keyed_seen):
        return "unkeyed row after keyed rows"
    if event.prev_hash != expected_prev:
        return "previous hash does not match"
    content = _digest(
        key,
        event.scheme,
        event.prev_hash,
        event.note_mac,
        at=event.at,
        actor=event.actor,
        action=event.action,
        case_id=event.case_id,
        reference=event.reference,
        details=event.details,
    )
    if not hmac.compare_digest(content, event.hash):
        return "row content does not match its hash"
    if event.note is not None and not hmac.compare_digest(
        note_digest(key, event.note), event.note_mac
    ):
        return "note does not match its digest"
    return None


def verify_chain(
    *, session: Session, head: ChainHead | None = None
) -> tuple[int, ChainBreak | None]:
    """Walk the chain; return how many rows were checked and the first that does not match.

    `head` is the head recorded outside the database (the head file, a digest): the chain must
    still reach it with the same hash, else rows were removed from its end or rewritten; and
    the chain must start where the head's trail starts, else it is another database's."""
    key = engine_audit(session.get_bind()).key
    expected_prev, keyed_seen, count = GENESIS, False, 0
    last: AuditEvent | None = None
    at_head: str | None = None
    first: str | None = None
    for event in iter_events(session=session):
        count += 1
        first = first or event.hash
        problem = _check(key, event, expected_prev, keyed_seen)
        if problem is not None:
            return count, ChainBreak(event.id or 0, event.at, problem)
        keyed_seen = keyed_seen or event.scheme == KEYED
        expected_prev, last = event.hash, event
        if head is not None and event.id == head.event_id:
            at_head = event.hash
    if head is None:
        return count, None
    last_id = last.id or 0 if last is not None else 0
    if head.first and first is not None and not hmac.compare_digest(first, head.first):
        problem = (
            "the recorded head is of another trail: its first event differs (the head of "
            "another database in the same folder, or this trail rewritten from its start)"
        )
        return count, ChainBreak(head.event_id, None, problem)
    if last_id < head.event_id:
        problem = f"the trail ends at event {last_id}; the recorded head is event {head.event_id}"
        return count, ChainBreak(head.event_id, None, f"rows missing at the end: {problem}")
    if at_head is None or not hmac.compare_digest(at_head, head.hash):
        return count, ChainBreak(head.event_id, None, "hash differs from the recorded head")
    return count, None


def key_legacy_chain(*, session: Session) -> int:
    """Rewrite a trail written before the chain was keyed (every row scheme 1) as a keyed one:
    each row's note moves out of `details` into the sealed note, and every hash is recomputed
    with the key. Only an intact plain chain is rewritten; returns how many rows were. The
    caller runs this once, before anything recorded a head (a recorded head means the chain
    was keyed, and an unkeyed trail then is a forgery, not an old trail)."""
    keyed = session.execute(select(col(AuditEvent.id)).where(col(AuditEvent.scheme) != PLAIN))
    if keyed.first() is not None:
        return 0
    key = engine_audit(session.get_bind()).key
    events = list(iter_events(session=session))
    expected = GENESIS
    for event in events:
        if _check(key, event, expected, keyed_seen=False) is not None:
            return 0
        expected = event.hash
    prev = GENESIS
    for event in events:
        details = dict(event.details)
        note = details.pop("note", None)
        event.note = None if note is None else str(note)
        event.note_mac = note_digest(key, event.note) if event.note is not None else ""
        event.details, event.scheme, event.prev_hash = details, KEYED, prev
        event.hash = _digest(
            key,
            KEYED,
            prev,
            event.note_mac,
            at=event.at,
            actor=event.actor,
            action=event.action,
            case_id=event.case_id,
            reference=event.reference,
            details=details,
        )
        prev = event.hash
        session.add(event)
    return len(events)

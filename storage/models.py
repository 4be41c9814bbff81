"""The tables. Every column that can hold personal data (mail, addresses, names, free-text
notes and reasons, the words that made a mail a request) has a sealed type (storage/types.py):
it is encrypted on write and opened on read, so raw SQL and a copy of the file show tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from storage.types import SealedBytes, SealedJSON, SealedText, UTCDateTime


def _utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


# The closed states of bot.states.CLOSED, for the partial index of active cases; a test holds
# the two equal (storage does not import the domain).
CLOSED_STATES = ("done", "refused", "withdrawn")
ACTIVE_CASE_SQL = "state NOT IN (" + ", ".join(f"'{s}'" for s in CLOSED_STATES) + ")"


class ReferenceCounter(SQLModel, table=True):
    """Last case number handed out per year; bumped with one UPDATE ... RETURNING."""

    __tablename__ = "reference_counter"
    year: int = Field(primary_key=True)
    last_number: int = 0


class Case(SQLModel, table=True):
    __tablename__ = "dsr_case"
    # The reminder sweep walks active cases by effective due date (keyset pagination).
    __table_args__ = (
        Index(
            "ix_dsr_case_active_effective_due",
            func.coalesce(text("extended_due"), text("due")),
            "id",
            postgresql_where=text(ACTIVE_CASE_SQL),
            sqlite_where=text(ACTIVE_CASE_SQL),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, index=True, max_length=32)
    state: str = Field(index=True, max_length=32)
    category: str = Field(max_length=32)
    also: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: float = 0.0
    needs_triage: bool = False
    evidence: list[str] = Field(
        default_factory=list, sa_column=Column(SealedJSON(), nullable=False)
    )
    language: str = Field(default="nl", max_length=2)
    requester: str = Field(sa_column=Column(SealedText(), nullable=False))
    requester_key: str = Field(default="", index=True, max_length=128)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due: date = Field(index=True)
    extended_due: date | None = None
    extension_reason: str | None = Field(default=None, sa_column=Column(SealedText()))
    verified_at: datetime | None = _utc_column(nullable=True)
    assignee: str | None = Field(default=None, max_length=64)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome_note: str | None = Field(default=None, sa_column=Column(SealedText()))
    closed_at: datetime | None = _utc_column(nullable=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = 1
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)
    # Whether the client organisation (opdrachtgever) may be told of the request: the
    # requester's answer to the acknowledgement, or the secretariat's; None: not known.
    client_may_be_informed: bool | None = None


class Message(SQLModel, table=True):
    """One mail, inbound or outbound, stored once (Message-ID, else content hash)."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("direction", "dedupe_key", name="uq_message_dedupe"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="dsr_case.id", index=True)
    direction: str = Field(max_length=8)
    dedupe_key: str = Field(max_length=998)
    message_id: str | None = Field(default=None, index=True, max_length=998)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    subject: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    sender: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    size: int = 0
    action: str = Field(default="", max_length=16)
    reason: str = ""
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: bytes = Field(sa_column=Column(SealedBytes(), nullable=False))
    purged_at: datetime | None = _utc_column(nullable=True)


class AuditEvent(SQLModel, table=True):
    """Append-only; each row carries a keyed hash (HMAC) over its content and the previous
    row's hash. A free-text note is sealed and hashed through `note_mac`, so the retention
    purge can clear the note and the chain still verifies."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    case_id: int | None = Field(default=None, foreign_key="dsr_case.id", index=True)
    reference: str | None = Field(default=None, max_length=32)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(SealedText()))
    note_mac: str = Field(default="", max_length=64)
    scheme: int = 2  # 1: plain SHA-256 (rows written before the chain was keyed); 2: HMAC
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class OutboxItem(SQLModel, table=True):
    """A mail or Slack call committed with the change that caused it, delivered later."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=64)
    dedupe_key: str = Field(unique=True, max_length=255)
    case_id: int | None = Field(default=None, foreign_key="dsr_case.id", index=True)
    recipient: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    recipient_key: str = Field(default="", index=True, max_length=128)
    message_id: str | None = Field(default=None, index=True, max_length=998)
    payload: bytes = Field(sa_column=Column(SealedBytes(), nullable=False))
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    claimed_until: datetime | None = _utc_column(nullable=True)
    sent_at: datetime | None = _utc_column(nullable=True)
    last_error: str = ""


class ImapCursor(SQLModel, table=True):
    """Where the IMAP poller stands in one mailbox folder."""

    __tablename__ = "imap_cursor"
    mailbox: str = Field(primary_key=True, max_length=255)
    uidvalidity: int
    last_uid: int = 0


class AppSecret(SQLModel, table=True):
    """Per-installation secrets shared by every instance (e.g. the loop-header token)."""

    __tablename__ = "app_secret"
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)


class KnownPerson(SQLModel, table=True):
    """The register of people the firm holds data on (imported by `dsr subjects import`)."""

    __tablename__ = "known_person"
    id: int | None = Field(default=None, primary_key=True)
    email_key: str = Field(unique=True, index=True, max_length=128)
    name_key: str = Field(default="", index=True, max_length=128)
    email: str = Field(sa_column=Column(SealedText(), nullable=False))
    name: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    employee_number: str | None = Field(default=None, sa_column=Column(SealedText()))
    organisation: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    date_of_birth: str | None = Field(default=None, sa_column=Column(SealedText()))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdentityCheck(SQLModel, table=True):
    """The one-time-code state of a case; the secret is sealed, codes are never stored."""

    __tablename__ = "identity_check"
    case_id: int = Field(foreign_key="dsr_case.id", primary_key=True)
    secret: bytes = Field(sa_column=Column(SealedBytes(), nullable=False))
    sent_to: str = Field(sa_column=Column(SealedText(), nullable=False))
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    issues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    wrong_attempts: int = 0
    locked: bool = False


class ReminderSent(SQLModel, table=True):
    """One row per (case, reminder step, due date): the exactly-once record of reminders."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("case_id", "step", "due", name="uq_reminder_step"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dsr_case.id", index=True)
    step: str = Field(max_length=32)
    due: date
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SlackReceipt(SQLModel, table=True):
    """Slack deliveries already acted on (retries with X-Slack-Retry-Num never act twice)."""

    __tablename__ = "slack_receipt"
    key: str = Field(primary_key=True, max_length=255)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReviewItem(SQLModel, table=True):
    """A stored mail that might be a request, waiting for a person: no case exists and
    nothing is sent until someone opens a case for it (or says it is not a request). The
    words that made it look like a request and the person's note are sealed."""

    __tablename__ = "review_item"
    __table_args__ = (Index("ix_review_item_state_received", "state", "received_at"),)
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", unique=True)
    state: str = Field(default="waiting", max_length=16)
    category: str = Field(max_length=32)
    also: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: float = 0.0
    evidence: list[str] = Field(
        default_factory=list, sa_column=Column(SealedJSON(), nullable=False)
    )
    language: str = Field(default="nl", max_length=2)
    reason: str = ""
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = _utc_column(nullable=True)
    decided_by: str | None = Field(default=None, max_length=128)
    note: str | None = Field(default=None, sa_column=Column(SealedText()))
    case_id: int | None = Field(default=None, foreign_key="dsr_case.id")
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)


class Task(SQLModel, table=True):
    """The work one system (an inventory id) owes a case: search and export, correct, erase,
    restrict, stop processing, or tell a recipient (GDPR art. 19). One row per (case, system,
    action); the note may hold personal text, so it is sealed."""

    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("case_id", "system", "action", name="uq_task_case_system_action"),
        Index("ix_task_state_case", "state", "case_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dsr_case.id", index=True)
    system: str = Field(max_length=64)
    action: str = Field(max_length=32)
    state: str = Field(default="open", max_length=16)
    assignee: str = Field(default="", max_length=255)
    result: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, sa_column=Column(SealedText()))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    done_at: datetime | None = _utc_column(nullable=True)
    done_by: str | None = Field(default=None, max_length=128)
    # The mail asking a processor or recipient to act: its Message-ID (a reply threads to the
    # task by it) and the date asked to answer by; a threaded reply waits for a person.
    mail_message_id: str | None = Field(default=None, index=True, max_length=998)
    answer_by: date | None = None
    reply_at: datetime | None = _utc_column(nullable=True)
    # The owner's direct message in Slack (updated when the task is done).
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)


class DownloadLink(SQLModel, table=True):
    """The requester's link to an answer package: only a hash of its token is stored; the
    current code is sealed; the package lies sealed in a file under the var dir until the
    link expires (`purged_at`)."""

    __tablename__ = "download_link"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="dsr_case.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    max_downloads: int = 5
    downloads: int = 0
    wrong_codes: int = 0
    locked: bool = False
    code: str | None = Field(default=None, sa_column=Column(SealedText()))
    code_issued_at: datetime | None = _utc_column(nullable=True)
    session_hash: str | None = Field(default=None, max_length=64)
    session_until: datetime | None = _utc_column(nullable=True)
    package_file: str | None = Field(default=None, max_length=255)
    first_download_at: datetime | None = _utc_column(nullable=True)
    last_download_at: datetime | None = _utc_column(nullable=True)
    purged_at: datetime | None = _utc_column(nullable=True)


class StatusAccess(SQLModel, table=True):
    """One request to see a case's status on the web: made whether or not the reference and
    address matched (`case_id` None when not), so the answer never tells which."""

    __tablename__ = "status_access"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    case_id: int | None = Field(default=None, foreign_key="dsr_case.id", index=True)
    code: str = Field(sa_column=Column(SealedText(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    wrong_codes: int = 0
    locked: bool = False
    verified_at: datetime | None = _utc_column(nullable=True)


class WebRateHit(SQLModel, table=True):
    """One counted request of the web front, by keyed hash of its IP address or mail address:
    the rate limits are counted here so that every instance sees the same counts."""

    __tablename__ = "web_rate_hit"
    __table_args__ = (Index("ix_web_rate_hit_bucket_at", "bucket", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=80)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TaskExport(SQLModel, table=True):
    """A file a system's owner exported for an access or portability request (a copy of the
    person's data): its content and name are sealed; size, type and SHA-256 are not, so the
    package's index and the audit trail can name the file without opening it."""

    __tablename__ = "task_export"
    __table_args__ = (UniqueConstraint("task_id", "sha256", name="uq_task_export_content"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    case_id: int = Field(foreign_key="dsr_case.id", index=True)
    system: str = Field(max_length=64)
    name: str = Field(sa_column=Column(SealedText(), nullable=False))
    kind: str = Field(max_length=8)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(SealedBytes(), nullable=False))
    source: str = Field(max_length=16)
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    added_by: str = Field(max_length=128)


class BreachCounter(SQLModel, table=True):
    """Last breach number handed out per year (`DL-2026-0001`); bumped like case numbers."""

    __tablename__ = "breach_counter"
    year: int = Field(primary_key=True)
    last_number: int = 0


class Breach(SQLModel, table=True):
    """A personal data breach (GDPR art. 33): the record behind the 72-hour clock and the
    register (art. 33(5)). The reporter, the checklist's facts and every free text a person
    typed are sealed."""

    __tablename__ = "breach"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, index=True, max_length=32)
    state: str = Field(default="open", index=True, max_length=16)
    source: str = Field(default="mail", max_length=16)
    language: str = Field(default="nl", max_length=2)
    reporter: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    reporter_name: str = Field(default="", sa_column=Column(SealedText(), nullable=False))
    processor: str | None = Field(default=None, max_length=64)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    aware_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    facts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(SealedJSON(), nullable=False)
    )
    requests_sent: int = 0
    ap_notified: bool | None = None
    ap_number: str | None = Field(default=None, max_length=64)
    risk: str | None = Field(default=None, sa_column=Column(SealedText()))
    subjects_told: bool | None = None
    subjects_reasons: str | None = Field(default=None, sa_column=Column(SealedText()))
    decided_at: datetime | None = _utc_column(nullable=True)
    decided_by: str | None = Field(default=None, max_length=128)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = 1


class BreachMail(SQLModel, table=True):
    """A mail of a breach's thread (the notice, our questions, the reporter's answers), by
    its Message-ID: an answer to our question threads to the breach."""

    __tablename__ = "breach_mail"
    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="breach.id", index=True)
    direction: str = Field(max_length=8)
    message_id: str = Field(index=True, max_length=998)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BreachEscalation(SQLModel, table=True):
    """One row per (breach, escalation step, deadline): the exactly-once record of the
    breach's alerts, claimed like `reminder_sent`."""

    __tablename__ = "breach_escalation"
    __table_args__ = (
        UniqueConstraint("breach_id", "step", "due", name="uq_breach_escalation_step"),
    )
    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="breach.id", index=True)
    step: str = Field(max_length=32)
    due: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BreachUpdate(SQLModel, table=True):
    """Append-only log of later updates to a breach's notification to the AP (art. 33(4))."""

    __tablename__ = "breach_update"
    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="breach.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=128)
    text: str = Field(sa_column=Column(SealedText(), nullable=False))

"""One path for every mail that reaches us (SMTP listener, IMAP poller, `dsr ingest`).

`process_message` stores the mail (or quarantines it with a reason) and decides, in one
transaction: duplicate, reply to a case, machine mail to record and never answer, ordinary mail
for the humans, or a new request with a case and an acknowledgement in the outbox.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from bot.breach_mail import open_from_mail, take_reply, thread_of
from bot.cases import NewCase, audit, open_case
from bot.categories import plain_words
from bot.classify import classify
from bot.classify.result import Classification, for_a_person
from bot.classify.vocabulary import load_vocabulary
from bot.compose import LOOP_HEADER, is_sane_id, is_sendable, message_id_domain
from bot.consent import apply_consent, consent_in, consent_word
from bot.desk import Desk
from bot.identity import CodeTarget, code_target, handle_reply, issue_code
from bot.mail.authresults import auth_failures
from bot.mail.language import language_hint
from bot.mail.machine import MachineVerdict, classify_sender, is_machine_sender
from bot.mail.parse import ParsedMail, parse_message, strip_envelope
from bot.mail.quoting import split_reply
from bot.outbox import loop_token, queue_mail, queue_slack
from bot.privacy import normalise_address
from bot.review_queue import queue_review_post
from bot.states import CLOSED
from bot.task_replies import handle_task_reply
from bot.templates import LANGUAGES, environment
from bot.wording import long_date
from storage.cases import get_case_by_reference
from storage.inbound import (
    RECEIVED,
    add_received,
    claim_received,
    finish_received,
)
from storage.messages import add_message, case_for_outbound_ids, find_stored, is_our_message_id
from storage.models import Case, IdentityCheck
from storage.outbox import find_by_message_id, mark_final
from storage.reviews import add_review_item

logger = logging.getLogger("dsr.intake")
REFERENCE_IN_SUBJECT = re.compile(r"\[\s*(DSR-\d{4}-\d{4,})\s*\]", re.IGNORECASE)
HEADER_LIMIT = 64 * 1024
THREAD_IDS = 20  # of our own ids in In-Reply-To/References, the newest, used to thread


class TemporaryIntakeError(Exception):
    """Our fault (database unreachable, disk full): keep the mail upstream and retry later."""


@dataclass
class Inbound:
    """What routing decides about the inbound mail's own row (stored at the end)."""

    dedupe_key: str
    flags: list[str]
    case_id: int | None = None
    message_row_id: int | None = None


@dataclass(frozen=True)
class IntakeResult:
    action: str  # created | threaded | review | breach | ignored | duplicate | quarantined
    case: str | None
    category: str | None
    reason: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "action": self.action,
            "case": self.case,
            "category": self.category,
            "reason": self.reason,
        }


def warm_up(desk: Desk, *, now: datetime) -> None:
    """Load before the first mail what intake otherwise loads on it: the recognition model,
    every vocabulary pattern, the reply templates and the holiday calendar (the `holidays`
    package imports every country it knows). The first request is then answered as fast as the
    rest, and a damaged model, pattern or template stops the service at its start instead of at
    a requester's mail.
    """
    classify(text="Graag inzage.", subject="", headers={}, threshold=desk.settings.triage_threshold)
    for phrase in load_vocabulary().phrases:
        phrase.regex  # noqa: B018 - compiled on first use; here all at once
    for language in LANGUAGES:
        for name in ("ack", "ack_neutral", "identity_code"):
            for suffix in ("txt", "html"):
                environment().get_template(f"{language}/{name}.{suffix}")
    year = now.astimezone(desk.tz).year
    desk.calendar.holidays_in(year)
    desk.calendar.holidays_in(year + 1)


def process_message(desk: Desk, raw: bytes, *, now: datetime, source: str) -> IntakeResult:
    """Store and route one mail; raises TemporaryIntakeError when it could not be stored."""
    try:
        return _process(desk, raw, now=now, source=source)
    except IntegrityError:
        # The same mail arrived twice at once; the other delivery stored it first.
        return _process(desk, raw, now=now, source=source)
    except DBAPIError as exc:
        raise TemporaryIntakeError(f"database unavailable: {type(exc.orig).__name__}") from exc
    except OSError as exc:
        raise TemporaryIntakeError(f"storage unavailable: {exc.strerror}") from exc


def _process(desk: Desk, raw: bytes, *, now: datetime, source: str) -> IntakeResult:
    unusable = _unusable(desk, raw)
    if unusable is not None:
        return _quarantine(desk, raw, now=now, reason=unusable)
    mail = _sane_ids(parse_message(raw, max_attachment_bytes=desk.settings.max_attachment_bytes))
    key = (mail.message_id or f"sha256:{mail.content_hash}")[:998]
    # Recognition runs with no transaction open: a slow mail never holds the write lock.
    found = recognise(desk, mail)
    try:
        with desk.transaction() as session:
            stored = _store(session, mail, raw, key=key, now=now, source=source)
            if isinstance(stored, IntakeResult):
                return stored
            result = _route_stored(
                desk, session, mail, stored, found, key=key, source=source, now=now
            )
    except (OperationalError, InterfaceError, OSError):
        raise  # the database or the disk is away: storing the mail alone would fail as well
    except Exception:
        # Routing failed on this mail (a fault of ours, the database refusing one of its values
        # included): it is stored anyway, not yet routed, before the caller hears of the
        # failure; the next delivery of the same mail routes it.
        with desk.transaction() as session:
            _store(session, mail, raw, key=key, now=now, source=source)
        raise
    logger.info("intake %s case=%s source=%s size=%d", result.action, result.case, source, len(raw))
    return result


def _route_stored(
    desk: Desk,
    session: Session,
    mail: ParsedMail,
    stored: _Stored,
    found: Classification,
    *,
    key: str,
    source: str,
    now: datetime,
) -> IntakeResult:
    """Route the stored mail in the transaction that stored it (or that claimed it)."""
    record = Inbound(dedupe_key=key, flags=[f"source:{source}"], message_row_id=stored.id)
    result = _route(desk, session, mail, record, found, received_at=stored.at, now=now)
    if result.action == "review":
        item_id = add_review_item(
            session=session,
            message_row_id=stored.id,
            category=found.category,
            also=found.also,
            confidence=found.confidence,
            evidence=found.evidence,
            language=found.language,
            reason=result.reason,
            received_at=stored.at,
            now=now,
        )
        queue_review_post(desk, session=session, item_id=item_id, now=now)
    finish_received(
        session=session,
        message_row_id=stored.id,
        case_id=record.case_id,
        action=result.action,
        reason=result.reason,
        flags=record.flags,
    )
    return result


def _sane_ids(mail: ParsedMail) -> ParsedMail:
    """Only `<left@right>` ids in printable ASCII are kept (a NUL or a line break in an id
    must reach neither a query, nor a stored row, nor our headers); a mail without a sane
    Message-ID is known by its content hash."""
    return replace(
        mail,
        message_id=mail.message_id if mail.message_id and is_sane_id(mail.message_id) else None,
        in_reply_to=mail.in_reply_to if mail.in_reply_to and is_sane_id(mail.in_reply_to) else None,
        references=tuple(r for r in mail.references if is_sane_id(r)),
        bounced_message_id=(
            mail.bounced_message_id
            if mail.bounced_message_id and is_sane_id(mail.bounced_message_id)
            else None
        ),
    )


def recognise(desk: Desk, mail: ParsedMail) -> Classification:
    """What the mail asks, bounded in text read and in time (see bot/classify). The budget
    counts this thread's CPU time, so a busy machine does not send ordinary mail to review.
    Should recognition fail on some input, the stored mail goes to a person, never lost."""
    try:
        return classify(
            text=mail.text,
            subject=mail.subject,
            headers=mail.headers,
            threshold=desk.settings.triage_threshold,
            clock=time.thread_time,
            language_hint=language_hint(mail.headers, mail.subject, mail.sender).language,
        )
    except Exception as exc:  # the message of an error may quote the mail: type only
        logger.error("intake recognition failed (%s); the mail goes to review", type(exc).__name__)
        return for_a_person("recognition failed")


@dataclass(frozen=True)
class _Stored:
    id: int
    at: datetime


def _store(
    session: Session, mail: ParsedMail, raw: bytes, *, key: str, now: datetime, source: str
) -> _Stored | IntakeResult:
    """Store the mail, in the transaction that routes it: it is on disk, routed, before the
    server that handed it over hears that we took it. A mail stored before but never routed
    (routing failed on it) is claimed and routed now; any other one stored before is a
    duplicate."""
    row_id = add_received(
        session=session,
        dedupe_key=key,
        message_id=mail.message_id,
        at=now,
        subject=mail.subject[:500],
        sender=mail.sender,
        raw=raw,
        flags=[f"source:{source}"],
    )
    if row_id is not None:
        return _Stored(row_id, now)
    state = find_stored(session=session, direction="in", dedupe_key=key)
    if state is None:  # the row that conflicted is committed and visible to this statement
        raise TemporaryIntakeError("the stored mail could not be read back")
    if state.action != RECEIVED or not claim_received(session=session, message_row_id=state.id):
        return IntakeResult("duplicate", state.reference, None, "this mail was stored before")
    return _Stored(state.id, state.at)


def _unusable(desk: Desk, raw: bytes) -> str | None:
    limit = desk.settings.max_message_bytes
    if len(raw) > limit:
        return f"too large: {len(raw)} bytes, limit {limit}"
    # An mbox envelope line ("From user@host", with or without a date) is not the mail.
    head = strip_envelope(raw[:HEADER_LIMIT].lstrip()).lstrip()
    if not head:
        return "empty input: no message"
    first_line = head.split(b"\n", 1)[0]
    if b":" not in first_line or first_line[:1] in b" \t":
        return "not an RFC 5322 message: no header section"
    return None


def _quarantine(desk: Desk, raw: bytes, *, now: datetime, reason: str) -> IntakeResult:
    """Keep what can be kept (the header section of an oversized mail) with the reason."""
    kept = raw if len(raw) <= desk.settings.max_message_bytes else raw.split(b"\r\n\r\n")[0]
    key = f"sha256:{hashlib.sha256(raw).hexdigest()}"
    return _store_quarantined(
        desk, key=key, size=len(raw), kept=kept[:HEADER_LIMIT], reason=reason, now=now
    )


def record_oversize(desk: Desk, *, size: int, where: str, now: datetime) -> IntakeResult:
    """A mail too large to download (IMAP): recorded with the reason, left on the server."""
    reason = f"too large: {size} bytes, limit {desk.settings.max_message_bytes}; left at {where}"
    return _store_quarantined(
        desk, key=f"oversize:{where}", size=size, kept=b"", reason=reason, now=now
    )


def _store_quarantined(
    desk: Desk, *, key: str, size: int, kept: bytes, reason: str, now: datetime
) -> IntakeResult:
    with desk.transaction() as session:
        if find_stored(session=session, direction="in", dedupe_key=key) is None:
            add_message(
                session=session,
                direction="in",
                dedupe_key=key,
                at=now,
                size=size,
                action="quarantined",
                reason=reason,
                raw=kept,
            )
    logger.warning("intake quarantined size=%d reason=%s", size, reason.split(":")[0])
    return IntakeResult("quarantined", None, None, reason)


def _greeting_name(name: str) -> str:
    """A display name fit for a greeting, or "" (then the template says "heer/mevrouw")."""
    clean = " ".join(name.replace('"', "").split())
    return clean if 0 < len(clean) <= 60 and "@" not in clean else ""


def _route(
    desk: Desk,
    session: Session,
    mail: ParsedMail,
    record: Inbound,
    found: Classification,
    *,
    received_at: datetime,
    now: datetime,
) -> IntakeResult:
    settings = desk.settings
    own_domain = message_id_domain(settings.own_domain)
    if (
        mail.message_id
        and mail.message_id.rstrip(">").lower().endswith("@" + own_domain)
        and is_our_message_id(session=session, message_id=mail.message_id)
    ):
        return IntakeResult("ignored", None, None, "our own mail came back")
    verdict = classify_sender(
        mail,
        own_domains={message_id_domain(settings.own_domain)},
        loop_header=LOOP_HEADER,
        own_loop_token=loop_token(desk, session),
    )
    case = _thread(desk, session, mail)
    if verdict.kind == "bounce":
        return _bounce(desk, session, mail, record, case, now=now, reason=verdict.reason)
    breach = thread_of(desk, session, mail) if case is None else None
    if breach is not None and verdict.kind == "person":
        filled = take_reply(desk, session=session, breach=breach, mail=mail, now=now)
        reason = f"reply to the breach; {len(filled)} checklist items filled"
        return IntakeResult("threaded", breach.reference, None, reason)
    if case is None and breach is None and found.route == "breach" and not found.auto_reply:
        # a breach notice from a no-reply system is still a breach: never left as machine mail
        return _breach(desk, session, mail, record, found, received_at=received_at, now=now)
    if verdict.kind != "person":
        if case is not None:
            record.case_id = case.id
        return IntakeResult(
            "ignored",
            case.reference if case else None,
            None,
            f"machine mail, never answered: {verdict.reason}",
        )
    if case is not None:
        return _reply(desk, session, mail, record, case, now=now)
    return _new_mail(desk, session, mail, record, verdict, found, received_at=received_at, now=now)


def _breach(
    desk: Desk,
    session: Session,
    mail: ParsedMail,
    record: Inbound,
    found: Classification,
    *,
    received_at: datetime,
    now: datetime,
) -> IntakeResult:
    """A personal data breach notice: a breach record and its clock; nothing is sent."""
    breach = open_from_mail(
        desk,
        session=session,
        mail=mail,
        language=found.language,
        message_row_id=record.message_row_id,
        received_at=received_at,
        now=now,
    )
    return IntakeResult(
        "breach", breach.reference, None, "a personal data breach notice; breach record opened"
    )


def _thread(desk: Desk, session: Session, mail: ParsedMail) -> Case | None:
    """The case a mail answers: our reference in the subject, or one of our Message-IDs
    (only ids of our own domain are looked up, the last few: a References header of 300,000
    ids must not become one query's parameters)."""
    match = REFERENCE_IN_SUBJECT.search(mail.subject)
    if match:
        case = get_case_by_reference(session=session, reference=match.group(1))
        if case is not None:
            return case
    ours = "@" + message_id_domain(desk.settings.own_domain) + ">"
    ids = [i for i in mail.references if i.lower().endswith(ours)][-THREAD_IDS:]
    return case_for_outbound_ids(session=session, message_ids=ids)


def _bounce(
    desk: Desk,
    session: Session,
    mail: ParsedMail,
    record: Inbound,
    case: Case | None,
    *,
    now: datetime,
    reason: str,
) -> IntakeResult:
    bounced = (
        find_by_message_id(session=session, message_id=mail.bounced_message_id)
        if mail.bounced_message_id
        else None
    )
    if bounced is not None and bounced.id is not None:
        mark_final(
            session=session,
            item_id=bounced.id,
            state="failed",
            error="bounced: the receiving server reported a delivery failure",
        )
        case = session.get(Case, bounced.case_id) if bounced.case_id else case
    if case is None:
        return IntakeResult("ignored", None, None, f"delivery report, never answered: {reason}")
    record.case_id = case.id
    if bounced is None:  # names a case but none of our mails: anyone can write that
        return IntakeResult(
            "ignored", case.reference, None, "delivery report about no mail of ours; recorded"
        )
    audit(
        session,
        case,
        now=now,
        actor="system",
        action="mail_bounced",
        details={"outbox_id": bounced.id},
    )
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="thread_note",
        dedupe_key=f"slack:bounce:{case.id}:{record.dedupe_key}"[:255],
        now=now,
        payload={"note": "bounce"},
    )
    _flag(case, "bounced")
    return IntakeResult(
        "threaded",
        case.reference,
        case.category,
        "delivery report: our mail to the requester bounced",
    )


def _flag(case: Case, flag: str) -> None:
    if flag not in case.flags:
        case.flags = sorted({*case.flags, flag})


def _reply(
    desk: Desk, session: Session, mail: ParsedMail, record: Inbound, case: Case, *, now: datetime
) -> IntakeResult:
    """A mail in a case's thread. Only the requester's own addresses (the original one, and
    the one the code went to) count as the requester; anyone else is threaded, flagged and
    never obeyed: no code attempt, no new code, no change to the case."""
    record.case_id = case.id
    answered = handle_task_reply(desk, session=session, mail=mail, case=case, now=now)
    if answered is not None:  # a processor's answer: never the requester's identity flow
        record.flags = [*record.flags, *answered.flags]
        return IntakeResult("threaded", case.reference, case.category, answered.reason)
    notes: list[str] = []
    check = session.get(IdentityCheck, case.id)
    code_address = check.sent_to if check is not None else None
    known = {normalise_address(a) for a in (case.requester, code_address) if a}
    from_requester = (
        bool(mail.sender)
        and not mail.other_senders  # a second From mailbox: DMARC may have checked that one
        and normalise_address(mail.sender) in known
    )
    forged = "dmarc" in auth_failures(
        mail.authentication_results, trusted=desk.settings.trusted_authserv_id
    )
    if from_requester and forged:  # our own server says the From was not the sender's
        from_requester = False
        record.flags = [*record.flags, "auth_dmarc_failed"]
        notes.append("DMARC failed for the requester's address; not acted on")
    elif not from_requester:
        record.flags = [*record.flags, "other_sender"]
        notes.append("from another address than the requester; not acted on")
    if case.state in CLOSED:
        notes.append(f"the case is closed ({case.state}); nothing reopened")
    identity = "not_awaiting"
    if case.state not in CLOSED and from_requester:
        identity = handle_reply(
            desk,
            session=session,
            case=case,
            new_text=split_reply(mail.text).new,
            sender=mail.sender,
            now=now,
            in_reply_to=mail.message_id,
        )
    if identity in {"several_codes", "code_from_other_address"}:
        record.flags = [*record.flags, identity]
    consent = consent_in(split_reply(mail.text).new) if from_requester else None
    if consent is not None and case.state not in CLOSED:
        apply_consent(
            desk, session=session, case=case, value=consent, actor="requester", how="reply", now=now
        )
        notes.append(f"client consent: {consent_word(consent)}")
    audit(
        session,
        case,
        now=now,
        actor="requester" if from_requester else "third_party",
        action="mail_received",
        details={"notes": notes, "identity": identity},
    )
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="thread_note",
        dedupe_key=f"slack:reply:{case.id}:{record.dedupe_key}"[:255],
        now=now,
        payload={
            "note": "reply",
            "closed": case.state in CLOSED,
            "other_sender": not from_requester,
        },
    )
    if identity not in {"not_awaiting", "no_code"}:
        notes.append(f"identity: {identity}")
    reason = "reply to the case" + (": " + "; ".join(notes) if notes else "")
    return IntakeResult("threaded", case.reference, case.category, reason)


def _new_mail(
    desk: Desk,
    session: Session,
    mail: ParsedMail,
    record: Inbound,
    verdict: MachineVerdict,
    found: Classification,
    *,
    received_at: datetime,
    now: datetime,
) -> IntakeResult:
    if found.route == "ignore":
        return IntakeResult(
            "ignored", None, found.category, "not a data-subject request; left for people"
        )
    if found.route == "review":
        return IntakeResult(
            "review", None, found.category, f"might be a request; a person decides: {found.reason}"
        )
    case = open_request(
        desk,
        session=session,
        mail=mail,
        verdict=verdict,
        request=Request.from_classification(found),
        received_at=received_at,
        now=now,
    )
    record.case_id = case.id
    reason = "new request"
    if not verdict.answer_to:
        reason += f"; not acknowledged: {verdict.reason}"
    return IntakeResult("created", case.reference, case.category, reason)


@dataclass(frozen=True)
class Request:
    """What a new case is opened for: recognition's answer, or a person's choice in review."""

    category: str
    also: tuple[str, ...] = ()
    confidence: float = 1.0
    needs_triage: bool = False
    evidence: tuple[str, ...] = ()
    language: str = "nl"

    @classmethod
    def from_classification(cls, found: Classification) -> Request:
        return cls(
            category=found.category,
            also=found.also,
            confidence=found.confidence,
            needs_triage=found.needs_triage,
            evidence=found.evidence,
            language=found.language,
        )


def open_request(
    desk: Desk,
    *,
    session: Session,
    mail: ParsedMail,
    verdict: MachineVerdict,
    request: Request,
    received_at: datetime,
    now: datetime,
) -> Case:
    """Open a case for a person's mail in the caller's transaction: the case (its legal clock
    from `received_at`, the mail's receipt), the Slack post, the acknowledgement and the code.

    The register is asked by the From address: a person it knows gets the code at the address
    on record only, whatever Reply-To says; the acknowledgement reads the same either way and
    never carries the code, so it tells nobody whether the register knows them.
    """
    to = verdict.answer_to
    flags = [] if to else ["no_reply_address"]
    if to and not is_sendable(to):  # nothing can be written to it: a person answers
        flags, to = ["no_reply_address", "unsendable_address"], None
    flags += [
        f"auth_{failure}_failed"
        for failure in auth_failures(
            mail.authentication_results, trusted=desk.settings.trusted_authserv_id
        )
    ]
    person = mail.sender if mail.sender and not is_machine_sender(mail.sender) else None
    if person and mail.reply_to and normalise_address(mail.reply_to) != normalise_address(person):
        flags.append("reply_to_differs")
    target = code_target(
        desk, session=session, sender=person, sender_name=mail.sender_name, reply_to=to
    )
    if target is not None and not is_sendable(target.address):
        target = None
    if target is not None and target.unknown:
        flags.append("unknown_requester")
    if target is not None and target.name_on_record:
        flags.append("name_on_record")
    if target is not None and to and target.address_differs_from(to):
        flags.append("code_sent_to_record" if not target.unknown else "code_sent_to_from")
    case = open_case(
        desk,
        session=session,
        now=now,
        new=NewCase(
            requester=person or to or mail.sender,
            received_at=received_at,
            category=request.category,
            also=request.also,
            confidence=request.confidence,
            needs_triage=request.needs_triage,
            evidence=request.evidence,
            language=request.language,
            flags=tuple(flags),
        ),
    )
    queue_slack(
        desk,
        session=session,
        case=case,
        kind="case_posted",
        dedupe_key=f"slack:post:{case.id}",
        now=now,
    )
    if to and target is not None:
        _acknowledge(desk, session, case, mail, to=to, target=target, now=now)
    return case


def _acknowledge(
    desk: Desk,
    session: Session,
    case: Case,
    mail: ParsedMail,
    *,
    to: str,
    target: CodeTarget,
    now: datetime,
) -> None:
    """The acknowledgement, then the code in a mail of its own to the code's address."""
    code = issue_code(desk, session=session, case=case, check=None, send_to=target.address, now=now)
    local = case.received_at.astimezone(desk.tz)
    context = {
        "name": _greeting_name(mail.sender_name),
        "received": long_date(local.date(), case.language),
        "due": long_date(case.due, case.language),
        "kind_words": plain_words(case.category, case.language),
        "code_hours": desk.settings.otp_ttl_hours,
    }
    template = "ack_neutral" if case.needs_triage or case.category == "other" else "ack"
    acknowledged = queue_mail(
        desk,
        session=session,
        case=case,
        template=template,
        to=to,
        now=now,
        context=context,
        dedupe_key=f"mail:ack:{case.id}",
        in_reply_to=mail.message_id,
        references=mail.references,
    )
    if not acknowledged:  # held back by the daily limit: the code waits for a person too
        return
    queue_mail(
        desk,
        session=session,
        case=case,
        template="identity_code",
        to=target.address,
        now=now,
        dedupe_key=f"mail:identity_code:{case.id}:1",
        context={"code": code, "code_hours": desk.settings.otp_ttl_hours},
        # one reply with the acknowledgement when it goes to the same address; counted for
        # its own address otherwise, so a rotating Reply-To cannot flood the From address
        part_of_reply=not target.address_differs_from(to),
    )

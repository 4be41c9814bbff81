"""One path for every mail that reaches us (SMTP listener, IMAP poller, `dsr ingest`).

`process_message` stores the mail (or quarantines it with a reason) and decides, in one
transaction: duplicate, reply to a case, machine mail to record and never answer, ordinary mail
for the humans, or a new request with a case and an acknowledgement in the outbox.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from bot.cases import NewCase, audit, open_case
from bot.categories import plain_words
from bot.classify import classify
from bot.compose import LOOP_HEADER, message_id_domain
from bot.desk import Desk
from bot.identity import CodeTarget, code_target, handle_reply, issue_code
from bot.mail.authresults import auth_failures
from bot.mail.machine import MachineVerdict, classify_sender
from bot.mail.parse import ParsedMail, parse_message
from bot.mail.quoting import split_reply
from bot.outbox import loop_token, queue_mail, queue_slack
from bot.states import CLOSED
from bot.templates import LANGUAGES, environment
from bot.wording import long_date
from storage.cases import get_case_by_reference
from storage.messages import add_message, case_for_outbound_ids, find_stored, is_our_message_id
from storage.models import Case
from storage.outbox import find_by_message_id, mark_final

logger = logging.getLogger("dsr.intake")
REFERENCE_IN_SUBJECT = re.compile(r"\[\s*(DSR-\d{4}-\d{4,})\s*\]", re.IGNORECASE)
HEADER_LIMIT = 64 * 1024


class TemporaryIntakeError(Exception):
    """Our fault (database unreachable, disk full): keep the mail upstream and retry later."""


@dataclass
class Inbound:
    """What routing decides about the inbound mail's own row (stored at the end)."""

    dedupe_key: str
    flags: list[str]
    case_id: int | None = None


@dataclass(frozen=True)
class IntakeResult:
    action: str  # created | threaded | ignored | duplicate | quarantined
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
    """Load before the first mail what intake otherwise loads on it: the recognition model and
    vocabulary, the reply templates and the holiday calendar (the `holidays` package imports
    every country it knows). The first request is then answered as fast as the rest, and a
    damaged model or template stops the service at its start instead of at a requester's mail.
    """
    classify(text="Graag inzage.", subject="", headers={}, threshold=desk.settings.triage_threshold)
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
    mail = parse_message(raw, max_attachment_bytes=desk.settings.max_attachment_bytes)
    key = mail.message_id or f"sha256:{mail.content_hash}"
    with desk.transaction() as session:
        stored = find_stored(session=session, direction="in", dedupe_key=key)
        if stored is not None:
            return IntakeResult("duplicate", stored.reference, None, "this mail was stored before")
        record = Inbound(dedupe_key=key[:998], flags=[f"source:{source}"])
        result = _route(desk, session, mail, record, now=now)
        add_message(
            session=session,
            direction="in",
            dedupe_key=record.dedupe_key,
            message_id=mail.message_id,
            at=now,
            subject=mail.subject[:500],
            sender=mail.sender,
            size=len(raw),
            raw=raw,
            case_id=record.case_id,
            action=result.action,
            reason=result.reason,
            flags=record.flags,
        )
    logger.info("intake %s case=%s source=%s size=%d", result.action, result.case, source, len(raw))
    return result


def _unusable(desk: Desk, raw: bytes) -> str | None:
    limit = desk.settings.max_message_bytes
    if len(raw) > limit:
        return f"too large: {len(raw)} bytes, limit {limit}"
    head = raw[:HEADER_LIMIT].lstrip()
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
    desk: Desk, session: Session, mail: ParsedMail, record: Inbound, *, now: datetime
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
    case = _thread(session, mail)
    if verdict.kind == "bounce":
        return _bounce(desk, session, mail, record, case, now=now, reason=verdict.reason)
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
    return _new_request(desk, session, mail, record, verdict, now=now)


def _thread(session: Session, mail: ParsedMail) -> Case | None:
    """The case a mail answers: our reference in the subject, or one of our Message-IDs."""
    match = REFERENCE_IN_SUBJECT.search(mail.subject)
    if match:
        case = get_case_by_reference(session=session, reference=match.group(1))
        if case is not None:
            return case
    return case_for_outbound_ids(session=session, message_ids=mail.references)


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
    audit(
        session,
        case,
        now=now,
        actor="system",
        action="mail_bounced",
        details={"outbox_id": bounced.id if bounced else None},
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
    record.case_id = case.id
    notes: list[str] = []
    if mail.sender and mail.sender != case.requester.lower():
        record.flags = [*record.flags, "other_sender"]
        notes.append("from another address than the requester")
    if case.state in CLOSED:
        notes.append(f"the case is closed ({case.state}); nothing reopened")
    identity = "not_awaiting"
    if case.state not in CLOSED:
        new_text = split_reply(mail.text).new
        identity = handle_reply(
            desk,
            session=session,
            case=case,
            new_text=new_text,
            now=now,
            in_reply_to=mail.message_id,
        )
    audit(
        session,
        case,
        now=now,
        actor="requester",
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
            "other_sender": "other_sender" in record.flags,
        },
    )
    if identity not in {"not_awaiting", "no_code"}:
        notes.append(f"identity: {identity}")
    reason = "reply to the case" + (": " + "; ".join(notes) if notes else "")
    return IntakeResult("threaded", case.reference, case.category, reason)


def _new_request(
    desk: Desk,
    session: Session,
    mail: ParsedMail,
    record: Inbound,
    verdict: MachineVerdict,
    *,
    now: datetime,
) -> IntakeResult:
    found = classify(
        text=mail.text,
        subject=mail.subject,
        headers=mail.headers,
        threshold=desk.settings.triage_threshold,
    )
    if found.category == "other" and not found.needs_triage:
        return IntakeResult("ignored", None, "other", "not a data-subject request; left for people")
    flags = [] if verdict.answer_to else ["no_reply_address"]
    flags += [
        f"auth_{failure}_failed"
        for failure in auth_failures(
            mail.authentication_results, trusted=desk.settings.trusted_authserv_id
        )
    ]
    # Where the code will go decides flags of the case, so it is looked up before the case.
    to = verdict.answer_to
    target = (
        code_target(desk, session=session, sender=to, sender_name=mail.sender_name) if to else None
    )
    if target is not None and target.unknown:
        flags.append("unknown_requester")
    if target is not None and target.elsewhere:
        flags.append("code_sent_to_record")
    requester = verdict.answer_to or mail.sender
    case = open_case(
        desk,
        session=session,
        now=now,
        new=NewCase(
            requester=requester,
            received_at=now,
            category=found.category,
            also=found.also,
            confidence=found.confidence,
            needs_triage=found.needs_triage,
            evidence=found.evidence,
            language=found.language,
            flags=tuple(flags),
        ),
    )
    record.case_id = case.id
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
    reason = "new request" + (" (needs triage)" if found.needs_triage else "")
    if not verdict.answer_to:
        reason += f"; not acknowledged: {verdict.reason}"
    return IntakeResult("created", case.reference, found.category, reason)


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
    """Acknowledge to the requester; the one-time code goes to the address on record."""
    code = issue_code(desk, session=session, case=case, check=None, send_to=target.address, now=now)
    local = case.received_at.astimezone(desk.tz)
    context = {
        "name": _greeting_name(mail.sender_name),
        "received": long_date(local.date(), case.language),
        "due": long_date(case.due, case.language),
        "kind_words": plain_words(case.category, case.language),
        "code": None if target.elsewhere else code,
        "code_elsewhere": target.elsewhere,
        "code_hours": desk.settings.otp_ttl_hours,
    }
    template = "ack_neutral" if case.needs_triage or case.category == "other" else "ack"
    queue_mail(
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
    if target.elsewhere:
        queue_mail(
            desk,
            session=session,
            case=case,
            template="identity_code",
            to=target.address,
            now=now,
            dedupe_key=f"mail:identity_code:{case.id}:1",
            context={"code": code, "code_hours": desk.settings.otp_ttl_hours},
        )

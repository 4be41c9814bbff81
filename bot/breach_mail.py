"""The breach track's mail: a notice that arrives opens a breach; missing checklist items make
a drafted question to the reporter (sent only after a person confirms, threaded to the notice);
the reporter's answer threads to the breach and fills the items it speaks of. Also the notice
to the people concerned, drafted from a template when they are to be told (art. 34)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.breach_facts import LABELS, extract, missing
from bot.breaches import (
    BreachRefused,
    NewBreach,
    UnknownBreach,
    facts_of,
    fill,
    open_breach,
)
from bot.compose import message_id_domain
from bot.desk import Desk
from bot.mail.parse import ParsedMail
from bot.mail.quoting import split_reply
from bot.outbox import queue_mail, queue_slack
from bot.privacy import normalise_address
from bot.templates import RenderedMail, render_mail
from storage.audit import append_event
from storage.breaches import (
    add_thread_id,
    breach_for_ids,
    get_breach,
    lock_breach,
    queued_message_id,
)
from storage.models import Breach, Message

BREACH_IN_SUBJECT = re.compile(r"\[\s*(DL-\d{4}-\d{4,})\s*\]", re.IGNORECASE)
THREAD_IDS = 20


def open_from_mail(
    desk: Desk,
    *,
    session: Session,
    mail: ParsedMail,
    language: str,
    message_row_id: int | None,
    received_at: datetime,
    now: datetime,
) -> Breach:
    """A breach for a notice that arrived by mail, in intake's transaction: no
    acknowledgement, no identity check; the clock runs from the mail's receipt."""
    reporter = mail.sender or mail.reply_to or ""
    breach = open_breach(
        desk,
        session=session,
        new=NewBreach(
            reporter=reporter,
            reporter_name=mail.sender_name,
            received_at=received_at,
            source="mail",
            language=language,
            facts=extract(split_reply(mail.text).new),
            message_row_id=message_row_id,
        ),
        actor="system",
        now=now,
    )
    if mail.message_id:
        add_thread_id(
            session=session,
            breach_id=breach.id or 0,
            message_id=mail.message_id,
            direction="in",
            at=now,
        )
    return breach


def thread_of(desk: Desk, session: Session, mail: ParsedMail) -> Breach | None:
    """The breach a mail answers: its reference in the subject, or one of our questions'
    Message-IDs in References (ours only, the last few)."""
    match = BREACH_IN_SUBJECT.search(mail.subject)
    if match:
        found = get_breach(session=session, reference=match.group(1))
        if found is not None:
            return found
    ours = "@" + message_id_domain(desk.settings.own_domain) + ">"
    ids = [i for i in (*mail.references, mail.in_reply_to or "") if i.lower().endswith(ours)]
    return breach_for_ids(session=session, message_ids=ids[-THREAD_IDS:])


def take_reply(
    desk: Desk, *, session: Session, breach: Breach, mail: ParsedMail, now: datetime
) -> list[str]:
    """A mail in a breach's thread: from the reporter, the items its new text speaks of fill
    the unknown ones (audited); from anyone else it is only recorded. The filled items."""
    from_reporter = bool(mail.sender) and normalise_address(mail.sender) in {
        normalise_address(a) for a in (breach.reporter,) if a
    }
    filled: list[str] = []
    if from_reporter:
        facts, filled = fill(facts_of(breach), extract(split_reply(mail.text).new), source="reply")
        breach.facts = facts
        breach.updated_at, breach.version = now, breach.version + 1
        session.add(breach)
    if mail.message_id:
        add_thread_id(
            session=session,
            breach_id=breach.id or 0,
            message_id=mail.message_id,
            direction="in",
            at=now,
        )
    append_event(
        session=session,
        at=now,
        actor="reporter" if from_reporter else "third_party",
        action="breach_mail_received",
        reference=breach.reference,
        details={"filled": filled, "missing": missing(facts_of(breach))},
    )
    queue_slack(
        desk,
        session=session,
        case=None,
        kind="dm",
        dedupe_key=f"breach:{breach.id}:reply:{mail.message_id or now.isoformat()}"[:255],
        now=now,
        payload={"text": reply_text(breach, filled, from_reporter), "reference": breach.reference},
    )
    return filled


def reply_text(breach: Breach, filled: list[str], from_reporter: bool) -> str:
    if not from_reporter:
        return (
            f"Datalek {breach.reference}: mail van een ander adres dan de melder; niets ingevuld."
        )
    left = len(missing(facts_of(breach)))
    return (
        f"Datalek {breach.reference}: antwoord van de melder, {len(filled)} punten ingevuld, "
        f"nog {left} open."
    )


@dataclass(frozen=True)
class Draft:
    to: str
    items: tuple[str, ...]
    mail: RenderedMail


def _greeting(name: str) -> str:
    clean = " ".join(name.replace('"', "").split())
    return clean if 0 < len(clean) <= 60 and "@" not in clean else ""


def _request_context(breach: Breach) -> dict[str, Any]:
    lang = breach.language if breach.language in LABELS else "nl"
    items = [LABELS[lang][item] for item in missing(facts_of(breach))]
    return {"reference": breach.reference, "name": _greeting(breach.reporter_name), "items": items}


def draft_request(breach: Breach) -> Draft | None:
    """The question for the missing items, as it would be sent; None when nothing is missing
    or there is no address to write to."""
    gaps = tuple(missing(facts_of(breach)))
    if not gaps or "@" not in breach.reporter:
        return None
    rendered = render_mail(
        "breach_request", language=breach.language, context=_request_context(breach)
    )
    return Draft(breach.reporter, gaps, rendered)


def send_request(desk: Desk, *, reference: str, actor: str, now: datetime) -> Draft:
    """A person confirmed the drafted question: queue it, threaded to the notice."""
    with desk.transaction() as session:
        breach = lock_breach(session=session, reference=reference.strip())
        if breach is None:
            raise UnknownBreach(reference)
        draft = draft_request(breach)
        if draft is None:
            raise BreachRefused(
                f"nothing to ask for {breach.reference}: no item is missing, or the reporter "
                "has no mail address"
            )
        notice = session.get(Message, breach.message_id) if breach.message_id else None
        notice_id = notice.message_id if notice is not None else None
        breach.requests_sent += 1
        key = f"breach:{breach.id}:request:{breach.requests_sent}"
        queue_mail(
            desk,
            session=session,
            case=None,
            template="breach_request",
            to=draft.to,
            now=now,
            context=_request_context(breach),
            dedupe_key=key,
            in_reply_to=notice_id,
            references=(notice_id,) if notice_id else (),
            automatic=False,
            language=breach.language,
        )
        sent_id = queued_message_id(session=session, dedupe_key=key)
        if sent_id:
            add_thread_id(
                session=session,
                breach_id=breach.id or 0,
                message_id=sent_id,
                direction="out",
                at=now,
            )
        breach.updated_at, breach.version = now, breach.version + 1
        session.add(breach)
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="breach_request_sent",
            reference=breach.reference,
            details={"items": list(draft.items), "number": breach.requests_sent},
        )
        return draft


def draft_notice(breach: Breach, *, language: str) -> RenderedMail:
    """The notice to the people concerned (art. 34), from the checklist; a person completes
    and sends it (the desk does not hold their addresses)."""
    facts = facts_of(breach)
    context: dict[str, Any] = {"reference": breach.reference}
    for item in ("nature", "data_categories", "consequences", "measures", "contact"):
        fact = facts.get(item)
        context[item] = fact["value"] if fact else ""
    return render_mail("breach_notice", language=language, context=context)

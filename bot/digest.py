"""The daily digest (overdue, due this week, awaiting identity, needs triage, unassigned, and
mail waiting for review longer than one working day) and the extension figures; both also
serve `/dsr stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.breach_alerts import open_breach_lines
from bot.categories import short_name
from bot.deadline import local_date
from bot.desk import Desk
from bot.outbox import queue_mail, queue_slack
from bot.reminders import SECRETARIAT_LANGUAGE, days_words
from bot.review_queue import late_reviews, waiting_days
from bot.states import CLOSED
from bot.task_lines import WORDS, task_line
from bot.task_reminders import CaseTasks, digest_tasks
from bot.wording import long_date
from storage.audit import ChainHead, chain_head
from storage.models import Case
from storage.outbox import existing_keys
from storage.reminders import digest_sections, extension_counts

WEEK = timedelta(days=7)
ITEMS_PER_SECTION = 10
REVIEW_KEY = "review_waiting"
REVIEW_TITLES = {
    "nl": "Mogelijke verzoeken die langer dan een werkdag op beoordeling wachten",
    "en": "Possible requests waiting for review for more than one working day",
}

TITLES: dict[str, dict[str, str]] = {
    "nl": {
        "overdue": "Termijn verstreken",
        "due_this_week": "Termijn verloopt binnen 7 dagen",
        "awaiting_identity": "Wacht op bevestiging van identiteit",
        "needs_triage": "Soort verzoek nog bepalen",
        "unassigned": "Nog geen behandelaar",
    },
    "en": {
        "overdue": "Overdue",
        "due_this_week": "Due within 7 days",
        "awaiting_identity": "Awaiting identity confirmation",
        "needs_triage": "Kind of request still to be decided",
        "unassigned": "No one assigned",
    },
}


@dataclass(frozen=True)
class DigestItem:
    reference: str
    category: str
    due: date
    days_left: int
    assignee: str | None


@dataclass(frozen=True)
class DigestSection:
    key: str
    count: int
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class DigestReview:
    """A review item that has waited longer than one working day (no case yet)."""

    item_id: int
    kind: str
    received: date
    waiting_days: int


@dataclass(frozen=True)
class Digest:
    day: date
    sections: tuple[DigestSection, ...]
    reviews: int = 0
    review_items: tuple[DigestReview, ...] = ()
    # The audit chain's last event, carried out of the database every day: rows removed from
    # the end of the trail later no longer reach it (`dsr audit verify --head`).
    audit_head: ChainHead | None = None
    # Open breaches (reference, AP deadline in words), listed before everything else.
    breaches: tuple[tuple[str, str], ...] = ()
    # Active cases waiting for systems: how many, and the first with their open tasks.
    task_cases: int = 0
    tasks: tuple[CaseTasks, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.reviews == 0
            and not self.breaches
            and not self.task_cases
            and all(section.count == 0 for section in self.sections)
        )

    def counts(self) -> dict[str, int]:
        """Cases per section, and `review_waiting` when mail waits for review too long."""
        counts = {section.key: section.count for section in self.sections}
        counts |= {"breaches_open": len(self.breaches)} if self.breaches else {}
        counts |= {"open_tasks": self.task_cases} if self.task_cases else {}
        return counts | ({REVIEW_KEY: self.reviews} if self.reviews else {})


def build_digest(desk: Desk, now: datetime) -> Digest:
    """The digest as it stands at `now` (for the morning post and for `/dsr stats`)."""
    with desk.transaction() as session:
        today = local_date(now, tz=desk.tz, name="now")
        return collect_digest(desk, session=session, today=today)


def collect_digest(desk: Desk, *, session: Session, today: date) -> Digest:
    reviews, rows = late_reviews(desk, session=session, today=today, limit=ITEMS_PER_SECTION)
    review_items = tuple(
        DigestReview(
            item_id=row.item.id or 0,
            kind=_review_kind(row.item.category, row.item.also),
            received=local_date(row.item.received_at, tz=desk.tz, name="received_at"),
            waiting_days=waiting_days(
                row.item.received_at, today=today, tz=desk.tz, cal=desk.calendar
            ),
        )
        for row in rows
    )
    found = digest_sections(
        session=session,
        closed={str(s) for s in CLOSED},
        today=today,
        week_end=today + WEEK,
        limit=ITEMS_PER_SECTION,
    )
    return Digest(
        day=today,
        sections=tuple(
            DigestSection(key, count, tuple(_item(case, today) for case in cases))
            for key, (count, cases) in found.items()
        ),
        reviews=reviews,
        review_items=review_items,
        audit_head=chain_head(session=session),
        breaches=open_breach_lines(desk, session=session),
        **_tasks(desk, session),
    )


def _tasks(desk: Desk, session: Session) -> dict[str, Any]:
    count, cases = digest_tasks(desk, session=session, limit=ITEMS_PER_SECTION)
    return {"task_cases": count, "tasks": cases}


def _review_kind(category: str, also: list[str]) -> str:
    return category if category != "other" or not also else also[0]


def queue_digest(
    desk: Desk, *, session: Session, today: date, now: datetime, dry_run: bool = False
) -> Digest | None:
    """Queue today's digest unless it went already or there is nothing to report; the
    outbox dedupe key `digest:YYYY-MM-DD` is the once-a-day record. Slack when it is on,
    else a mail to the secretariat."""
    key = f"digest:{today.isoformat()}"
    if existing_keys(session=session, keys=[key]):
        return None
    found = collect_digest(desk, session=session, today=today)
    if found.empty or dry_run:
        return None if found.empty else found
    settings = desk.settings
    if settings.slack_bot_token:
        payload = {
            "text": digest_text(found, language=SECRETARIAT_LANGUAGE),
            "channel": settings.slack_channel,
            "date": today.isoformat(),
            "counts": found.counts(),
        }
        queue_slack(
            desk,
            session=session,
            case=None,
            kind="digest",
            dedupe_key=key,
            now=now,
            payload=payload,
        )
    else:
        queue_mail(
            desk,
            session=session,
            case=None,
            template="digest",
            to=settings.alert_address,
            now=now,
            context=digest_context(found, language=SECRETARIAT_LANGUAGE),
            dedupe_key=key,
            automatic=False,
            language=SECRETARIAT_LANGUAGE,
        )
    return found


def _item(case: Case, today: date) -> DigestItem:
    due = case.extended_due or case.due
    return DigestItem(case.reference, case.category, due, (due - today).days, case.assignee)


def digest_context(digest: Digest, *, language: str = SECRETARIAT_LANGUAGE) -> dict[str, Any]:
    """Template context of `digest`: only the sections with something in them."""
    lang = language if language in TITLES else SECRETARIAT_LANGUAGE
    return {
        "day": long_date(digest.day, lang),
        "breaches": [{"reference": r, "due": due} for r, due in digest.breaches],
        "sections": [
            {
                "title": TITLES[lang][section.key],
                "count": section.count,
                "more": section.count - len(section.items),
                "cases": [_item_words(item, lang) for item in section.items],
            }
            for section in digest.sections
            if section.count
        ],
        "reviews": _review_words(digest, lang) if digest.reviews else None,
        "audit_head": _head_words(digest.audit_head),
        "tasks": _task_words(digest, lang, slack=False),
    }


def _task_words(digest: Digest, lang: str, *, slack: bool) -> dict[str, Any] | None:
    """Open tasks per case: `CRM (relatiebeheer): open, bij <@U…>`."""
    if not digest.task_cases:
        return None
    return {
        "title": WORDS[lang]["title"],
        "count": digest.task_cases,
        "more": digest.task_cases - len(digest.tasks),
        "cases": [
            {
                "reference": case.reference,
                "lines": [task_line(t, language=lang, slack=slack) for t in case.tasks],
            }
            for case in digest.tasks
        ],
    }


def _head_words(head: ChainHead | None) -> dict[str, Any] | None:
    return {"event": head.event_id, "hash": head.hash} if head is not None else None


def _review_words(digest: Digest, lang: str) -> dict[str, Any]:
    nl = lang == "nl"
    return {
        "title": REVIEW_TITLES[lang],
        "count": digest.reviews,
        "more": digest.reviews - len(digest.review_items),
        "lines": [
            {
                "id": item.item_id,
                "kind": short_name(item.kind, lang),
                "received": long_date(item.received, lang),
                "days": _working_days_words(item.waiting_days, nl=nl),
            }
            for item in digest.review_items
        ],
    }


def _working_days_words(days: int, *, nl: bool) -> str:
    if nl:
        return f"{days} {'werkdag' if days == 1 else 'werkdagen'}"
    return f"{days} working {'day' if days == 1 else 'days'}"


def _item_words(item: DigestItem, lang: str) -> dict[str, Any]:
    return {
        "reference": item.reference,
        "kind": short_name(item.category, lang),
        "due": long_date(item.due, lang),
        "days": days_words(item.days_left, lang),
        "assignee": item.assignee,
    }


def digest_text(digest: Digest, *, language: str = SECRETARIAT_LANGUAGE) -> str:
    """The Slack text of the digest (mrkdwn)."""
    values = digest_context(digest, language=language)
    nl = language != "en"
    lines = [f"*{'Dagoverzicht' if nl else 'Daily digest'} {values['day']}*"]
    if values["breaches"]:
        title = "Open datalekken" if nl else "Open data breaches"
        lines.append(f"\n*{title}: {len(values['breaches'])}*")
        lines.extend(
            f"• {b['reference']}, {'meldtermijn AP' if nl else 'AP deadline'} {b['due']}"
            for b in values["breaches"]
        )
    for section in values["sections"]:
        lines.append(f"\n*{section['title']}: {section['count']}*")
        lines.extend(_line(item) for item in section["cases"])
        if section["more"]:
            lines.append(f"… {'en nog' if nl else 'and'} {section['more']}")
    if tasks := _task_words(digest, "nl" if nl else "en", slack=True):
        lines.append(f"\n*{tasks['title']}: {tasks['count']}*")
        lines.extend(f"• {c['reference']}: {'; '.join(c['lines'])}" for c in tasks["cases"])
        if tasks["more"]:
            lines.append(f"… {'en nog' if nl else 'and'} {tasks['more']}")
    if reviews := values["reviews"]:
        lines.append(f"\n*{reviews['title']}: {reviews['count']}*")
        lines.extend(_review_line(item, nl=nl) for item in reviews["lines"])
        if reviews["more"]:
            lines.append(f"… {'en nog' if nl else 'and'} {reviews['more']}")
        lines.append("/dsr review")
    if digest.audit_head is not None:
        head = digest.audit_head
        label = "Audittrail, laatste gebeurtenis" if nl else "Audit trail, last event"
        lines.append(f"\n{label}: `{head.line()}`")
    return "\n".join(lines)


def _review_line(item: dict[str, Any], *, nl: bool) -> str:
    if nl:
        return (
            f"• Beoordeling {item['id']} (mogelijk {item['kind']}), ontvangen "
            f"{item['received']}, wacht {item['days']}"
        )
    return (
        f"• Review {item['id']} (possibly {item['kind']}), received {item['received']}, "
        f"waiting {item['days']}"
    )


def _line(item: dict[str, Any]) -> str:
    who = f", {item['assignee']}" if item["assignee"] else ""
    return f"• {item['reference']} ({item['kind']}), {item['due']}, {item['days']}{who}"


def extension_stats(desk: Desk) -> dict[str, Any]:
    """How often extensions are used: count and share, overall and among active cases."""
    with desk.transaction() as session:
        counts = extension_counts(session=session, closed={str(s) for s in CLOSED})
    return {
        **counts,
        "share": _share(counts["extended"], counts["cases"]),
        "active_share": _share(counts["active_extended"], counts["active"]),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0

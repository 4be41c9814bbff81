"""The daily digest (overdue, due this week, awaiting identity, needs triage, unassigned) and
the extension figures; both also serve `/dsr stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.deadline import local_date
from bot.desk import Desk
from bot.outbox import queue_mail, queue_slack
from bot.reminders import KIND_WORDS, SECRETARIAT_LANGUAGE, days_words
from bot.states import CLOSED
from bot.wording import long_date
from storage.models import Case
from storage.outbox import existing_keys
from storage.reminders import digest_sections, extension_counts

WEEK = timedelta(days=7)
ITEMS_PER_SECTION = 10

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
class Digest:
    day: date
    sections: tuple[DigestSection, ...]

    @property
    def empty(self) -> bool:
        return all(section.count == 0 for section in self.sections)

    def counts(self) -> dict[str, int]:
        return {section.key: section.count for section in self.sections}


def build_digest(desk: Desk, now: datetime) -> Digest:
    """The digest as it stands at `now` (for the morning post and for `/dsr stats`)."""
    with desk.transaction() as session:
        return collect_digest(session=session, today=local_date(now, tz=desk.tz, name="now"))


def collect_digest(*, session: Session, today: date) -> Digest:
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
    )


def queue_digest(
    desk: Desk, *, session: Session, today: date, now: datetime, dry_run: bool = False
) -> Digest | None:
    """Queue today's digest unless it went already or there is nothing to report; the
    outbox dedupe key `digest:YYYY-MM-DD` is the once-a-day record. Slack when it is on,
    else a mail to the secretariat."""
    key = f"digest:{today.isoformat()}"
    if existing_keys(session=session, keys=[key]):
        return None
    found = collect_digest(session=session, today=today)
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
    }


def _item_words(item: DigestItem, lang: str) -> dict[str, Any]:
    return {
        "reference": item.reference,
        "kind": KIND_WORDS[lang].get(item.category, item.category),
        "due": long_date(item.due, lang),
        "days": days_words(item.days_left, lang),
        "assignee": item.assignee,
    }


def digest_text(digest: Digest, *, language: str = SECRETARIAT_LANGUAGE) -> str:
    """The Slack text of the digest (mrkdwn)."""
    values = digest_context(digest, language=language)
    nl = language != "en"
    lines = [f"*{'Dagoverzicht' if nl else 'Daily digest'} {values['day']}*"]
    for section in values["sections"]:
        lines.append(f"\n*{section['title']}: {section['count']}*")
        lines.extend(_line(item) for item in section["cases"])
        if section["more"]:
            lines.append(f"… {'en nog' if nl else 'and'} {section['more']}")
    return "\n".join(lines)


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

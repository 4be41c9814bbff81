"""The kinds of request (GDPR articles 15-22) and their names in plain words."""

from __future__ import annotations

REQUEST_KINDS: tuple[str, ...] = (
    "access",
    "correction",
    "erasure",
    "complaint",
    "objection",
    "restriction",
    "portability",
    "consent_withdrawal",
)
ALL_CATEGORIES: tuple[str, ...] = (*REQUEST_KINDS, "other")

PLAIN_WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "access": "inzage in uw persoonsgegevens",
        "correction": "correctie van uw persoonsgegevens",
        "erasure": "verwijdering van uw persoonsgegevens",
        "complaint": "een klacht over de omgang met uw persoonsgegevens",
        "objection": "bezwaar tegen het gebruik van uw persoonsgegevens",
        "restriction": "beperking van het gebruik van uw persoonsgegevens",
        "portability": "overdracht van uw persoonsgegevens",
        "consent_withdrawal": "intrekking van uw toestemming",
        "other": "uw bericht",
    },
    "en": {
        "access": "access to your personal data",
        "correction": "correction of your personal data",
        "erasure": "erasure of your personal data",
        "complaint": "a complaint about how your personal data was handled",
        "objection": "an objection to the use of your personal data",
        "restriction": "restriction of the use of your personal data",
        "portability": "a copy of your personal data to take elsewhere",
        "consent_withdrawal": "withdrawal of your consent",
        "other": "your message",
    },
}


# Each kind's short name, for lists, digests and Slack labels.
SHORT_NAMES: dict[str, dict[str, str]] = {
    "nl": {
        "access": "inzage", "correction": "correctie", "erasure": "verwijdering",
        "complaint": "klacht", "objection": "bezwaar", "restriction": "beperking",
        "portability": "overdraagbaarheid", "consent_withdrawal": "intrekking toestemming",
        "other": "overig",
    },
    "en": {
        "access": "access", "correction": "correction", "erasure": "erasure",
        "complaint": "complaint", "objection": "objection", "restriction": "restriction",
        "portability": "portability", "consent_withdrawal": "consent withdrawal",
        "other": "other",
    },
}  # fmt: skip


def short_name(kind: str, language: str) -> str:
    return SHORT_NAMES.get(language, SHORT_NAMES["nl"]).get(kind, kind)


class UnknownKind(ValueError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown kind {kind!r}; use one of: {', '.join(ALL_CATEGORIES)}")


def check_kind(kind: str) -> str:
    value = kind.strip().lower().replace("-", "_")
    if value not in ALL_CATEGORIES:
        raise UnknownKind(kind)
    return value


def plain_words(kind: str, language: str) -> str:
    return PLAIN_WORDS.get(language, PLAIN_WORDS["nl"]).get(kind, kind)

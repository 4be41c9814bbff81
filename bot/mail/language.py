"""A hint at the writer's language from a mail's headers, subject and sender, not its body.

A short mail ("Please send me my data.") holds too few words to tell Dutch from English by
counting; its headers often say more. The desk answers in Dutch or English only, so a writer in
any other language is best answered in English.

Signals, strongest first:
- `Content-Language` (RFC 3282): the language the sender's client says the text is in;
- the subject: the reply and forward prefixes a mail client writes in its own language
  ("Antw:", "Doorst:" against "Re:", "Fwd:" are not telling) and the subject's own words;
- `Accept-Language` / `X-Accept-Language`: the languages of the writer's mail client (Outlook
  and Thunderbird set them);
- the sender's country domain (.nl against .uk, .de, ...): weak, people move and write
  across borders.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["LanguageHint", "language_hint"]

Language = Literal["nl", "en"]
Strength = Literal["strong", "medium", "weak"]

_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_DUTCH_PREFIX = re.compile(r"^\s*(?:antw|doorst)\s*:", re.IGNORECASE)
_SUBJECT_WORD = re.compile(r"[^\W\d_]+")
_DUTCH_WORDS = frozenset(
    "aanvraag adres afschrift bezwaar de een en gegevens graag het inzage inzageverzoek ik "
    "klacht mijn met niet om over persoonsgegevens uw van verwijderen verwijdering verzoek voor "
    "vraag wijzigen wijziging".split()
)
_ENGLISH_WORDS = frozenset(
    "a about access and complaint copy data delete deletion erasure for information my of "
    "personal please request right subject the to your".split()
)
_DUTCH_DOMAINS = ("nl", "sr", "aw", "cw", "sx")
# Generic domains, and Belgium's, whose people write Dutch as often as French: no hint.
_NO_HINT_DOMAINS = frozenset({"com", "org", "net", "info", "biz", "eu", "email", "io", "me", "be"})


@dataclass(frozen=True)
class LanguageHint:
    """`language` is None when nothing points either way; `reason` names the signal."""

    language: Language | None
    strength: Strength | None
    reason: str


_NONE = LanguageHint(None, None, "no signal in the headers, subject or sender")


def language_hint(headers: Mapping[str, str], subject: str, sender: str) -> LanguageHint:
    """The writer's likely language from headers (any case of names), subject and sender."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return (
        _tags(lowered.get("content-language", ""), "Content-Language", "strong")
        or _subject(subject)
        or _tags(
            lowered.get("accept-language", "") or lowered.get("x-accept-language", ""),
            "Accept-Language",
            "medium",
        )
        or _domain(sender)
        or _NONE
    )


def _tags(value: str, header: str, strength: Strength) -> LanguageHint | None:
    """The first language tag (RFC 5646) of a header: Dutch, or any other language -> English."""
    first = _TAG.search(value.split(",")[0])
    if first is None:
        return None
    tag = first.group(0).lower()
    primary = tag.split("-")[0]
    if primary == "nl":
        return LanguageHint("nl", strength, f"{header}: {tag}")
    if primary == "en":
        return LanguageHint("en", strength, f"{header}: {tag}")
    if primary in ("i", "x") or len(primary) < 2:  # private and grandfathered tags
        return None
    return LanguageHint("en", "weak", f"{header}: {tag} (neither Dutch nor English)")


def _subject(subject: str) -> LanguageHint | None:
    if _DUTCH_PREFIX.match(subject):
        return LanguageHint("nl", "medium", "Dutch reply or forward prefix in the subject")
    words = [w.lower() for w in _SUBJECT_WORD.findall(subject)]
    dutch = sum(w in _DUTCH_WORDS for w in words)
    english = sum(w in _ENGLISH_WORDS for w in words)
    if dutch > english:
        return LanguageHint("nl", "medium", f"subject words: {dutch} Dutch, {english} English")
    if english > dutch:
        return LanguageHint("en", "medium", f"subject words: {english} English, {dutch} Dutch")
    return None


def _domain(sender: str) -> LanguageHint | None:
    top = sender.rpartition("@")[2].rpartition(".")[2].lower()
    if not top or top in _NO_HINT_DOMAINS or not top.isalpha():
        return None
    if top in _DUTCH_DOMAINS:
        return LanguageHint("nl", "weak", f"sender's domain .{top}")
    if len(top) == 2:  # another country's domain
        return LanguageHint("en", "weak", f"sender's domain .{top}")
    return None

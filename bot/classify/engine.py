"""Recognise a data-subject request in one mail: a pure function over text and headers."""

import math
import re
from collections.abc import Iterator, Mapping

from bot.mail.machine import auto_reply_reason
from bot.mail.quoting import split_reply

from .language import detect_language
from .result import Classification
from .scoring import Hit, build_document, find_hits, scores
from .text import html_to_text, normalise, sentences
from .vocabulary import REQUEST_CATEGORIES, load_vocabulary

__all__ = ["classify"]

_REPLY_PREFIX = re.compile(r"^\s*((re|antw|aw|sv|vs)\s*:\s*)+", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*((fw|fwd|doorst)\s*:\s*)+", re.IGNORECASE)
_ADDRESS = re.compile(r"<([^>]+)>")
_MIN_REQUEST = 0.6
_MIN_ALSO = 1.5
_SINGULAR = frozenset({"ik", "mij", "me", "mijn", "mn", "i", "my", "mine", "i'm", "i'd", "i've"})
_PLURAL = frozenset({"wij", "we", "ons", "onze", "our", "us", "ours"})
_MAX_EVIDENCE = 6


class _Headers(Mapping[str, str]):
    """Case-insensitive view of mail headers (RFC 5322 field names ignore case)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._data = {str(k).lower(): str(v) for k, v in headers.items()}

    def __getitem__(self, key: str) -> str:
        return self._data[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _respell(line: str, spelling: Mapping[str, str]) -> str:
    return " ".join(spelling.get(word, word) for word in line.split())


def _sender(headers: Mapping[str, str]) -> str:
    value = headers.get("From", "")
    found = _ADDRESS.search(value)
    return (found.group(1) if found else value).strip()


def _subject(subject: str) -> list[str]:
    """The subject counts unless it is a reply's ("Re: inzageverzoek" repeats our own)."""
    if _REPLY_PREFIX.match(subject):
        return []
    cleaned = _FORWARD_PREFIX.sub("", subject).strip()
    return [normalise(cleaned)] if cleaned else []


def _evidence(hits: list[Hit], category: str) -> tuple[str, ...]:
    chosen = sorted((h for h in hits if h.category == category), key=lambda h: -h.weight)
    texts = dict.fromkeys(f"{h.text} (everyday sense)" if h.dampened else h.text for h in chosen)
    return tuple(texts)[:_MAX_EVIDENCE]


def _decide(hits: list[Hit], language: str, threshold: float) -> Classification:
    total = scores(hits)
    other = scores(hits, weak_other=False).get("other", 0.0)
    requests = sorted(
        ((total[c], c) for c in REQUEST_CATEGORIES if total.get(c, 0.0) > 0), reverse=True
    )
    signals = [h for h in hits if h.signal]
    # DESIGN.md: nothing that may be a request disappears silently. Any undampened request
    # phrase, even a weak one, sends an `other` decision to a human.
    hints = [h for h in hits if h.category in REQUEST_CATEGORIES and not h.dampened]
    signals = signals or hints
    if not requests or requests[0][0] < _MIN_REQUEST:
        guess = tuple(c for _, c in requests[:1]) if signals else ()
        confidence = 0.9 if not requests else max(0.3, 0.85 - requests[0][0])
        evidence = _evidence(hits, "other") + tuple(e for c in guess for e in _evidence(hits, c))
        return Classification(
            category="other",
            confidence=confidence,
            also=guess,
            language=language,
            auto_reply=False,
            needs_triage=bool(signals),
            evidence=evidence or ("no request phrase found",),
        )
    best, category = requests[0]
    second = requests[1][0] if len(requests) > 1 else 0.0
    confidence = (1 - math.exp(-1.2 * best)) * best / (best + 0.4 * second + 0.4 * other)
    also = tuple(c for s, c in requests[1:] if s >= max(_MIN_ALSO, 0.35 * best))
    dampened = any(h.dampened and h.category == category for h in signals)
    return Classification(
        category=category,
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        also=also,
        language=language,
        auto_reply=False,
        needs_triage=confidence < threshold or dampened,
        evidence=_evidence(hits, category),
    )


def classify(
    *,
    text: str,
    subject: str = "",
    headers: Mapping[str, str] | None = None,
    threshold: float = 0.6,
) -> Classification:
    """Classify one mail's new text (quotes, signatures and disclaimers set aside)."""
    view = _Headers(headers or {})
    vocabulary = load_vocabulary()
    parts = split_reply(html_to_text(text))
    body = [_respell(line, vocabulary.spelling) for line in sentences(parts.new)]
    subject_lines = _subject(subject)
    words = " ".join([*subject_lines, *body] or sentences(parts.quoted)).split()
    language = detect_language(words)
    reason = auto_reply_reason(view, _sender(view))
    if reason is not None:
        return Classification("other", 1.0, (), language, True, False, (reason,))
    body_words = " ".join(body).split()
    business = (
        not _SINGULAR.intersection(body_words)
        and bool(_PLURAL.intersection(body_words))
        and any(vocabulary.dampeners.search(line) for line in body)
    )
    hits = find_hits(build_document(subject_lines, body), vocabulary, business=business)
    return _decide(hits, language, threshold)

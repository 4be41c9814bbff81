"""Find vocabulary phrases in a mail's sentences and weigh them in context."""

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .vocabulary import Phrase, Vocabulary

__all__ = [
    "FIRST_PERSON_WORDS",
    "OWN_WORDS",
    "Document",
    "Hit",
    "build_document",
    "find_hits",
    "scores",
]

_WINDOW = 6
# the writer's own person ("mijn", "my"), and the writer speaking at all ("ik", "I")
OWN_WORDS = frozenset({"mij", "me", "mijn", "mijne", "mn", "mezelf", "my", "mine", "myself"})
FIRST_PERSON_WORDS = OWN_WORDS | {"ik", "i", "i'm", "i'd", "i've"}


def _words_regex(words: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(" + "|".join(sorted(words, key=len, reverse=True)) + r")(?!\w)")


_FIRST_PERSON = _words_regex(FIRST_PERSON_WORDS)
_OWN = _words_regex(OWN_WORDS)
_PERSONAL = re.compile(
    r"(?<!\w)(mijn|mij|me|mn|my|mine|ik|i"
    r"|(ons|onze|our|us) (persoons)?(gegevens|data|personal data|information))(?!\w)"
)


@dataclass(frozen=True)
class Document:
    lines: tuple[str, ...]
    starts: tuple[int, ...]
    text: str
    subject_lines: int


@dataclass(frozen=True)
class Hit:
    category: str
    tier: str
    text: str
    weight: float
    dampened: bool
    signal: bool
    subject: bool
    start: int
    end: int


def build_document(subject: list[str], body: list[str]) -> Document:
    lines = (*subject, *body)
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return Document(lines, tuple(starts), "\n".join(lines), len(subject))


def _clause_before(sentence: str, start: int, vocab: Vocabulary) -> tuple[list[str], str]:
    """Words of the clause before position `start`, and the word that opened the clause."""
    words = sentence[:start].split()
    for i in range(len(words) - 1, -1, -1):
        if words[i] in vocab.boundaries:
            return words[i + 1 :], words[i]
    return words, ""


def _negated(phrase: Phrase, sentence: str, start: int, end: int, vocab: Vocabulary) -> bool:
    if phrase.carries_negation:
        return False
    clause, _ = _clause_before(sentence, start, vocab)
    if vocab.negation_before.search(" ".join(clause[-_WINDOW:])):
        return True
    if vocab.negation_before.search(sentence[start:end]):
        return True
    return bool(vocab.negation_after.match(sentence[end:]))


def _context(doc: Document, index: int, vocab: Vocabulary) -> tuple[bool, bool]:
    """(dampened, past) for the sentence at `index`: business words nearby, earlier request.

    A business word in the sentence before counts only when this sentence does not speak
    for the writer: "Bijgaand de offerte. Kunt u de oude verwijderen?" is everyday mail,
    "... voor een offerte. Die toestemming wil ik intrekken." is a request.
    """
    line = doc.lines[index]
    near = [line]
    if index > doc.subject_lines and not _FIRST_PERSON.search(line):
        near.append(doc.lines[index - 1])
    dampened = any(vocab.dampeners.search(x) for x in near)
    return dampened, bool(vocab.past.search(line))


def _hit(
    phrase: Phrase,
    doc: Document,
    span: tuple[int, int],
    vocab: Vocabulary,
    business: bool,
    on_topic: bool,
    contexts: dict[int, tuple[bool, bool]],
) -> Hit | None:
    """The phrase's find at `span`, weighed; None when negated. `contexts`: `_context` of
    the sentences seen so far in this document."""
    start, end = span
    index = bisect_right(doc.starts, start) - 1
    sentence, base = doc.lines[index], doc.starts[index]
    weights = vocab.weights
    weight = weights[phrase.tier]
    dampened, signal = False, phrase.tier != "weak" and phrase.category != "other"
    if phrase.category != "other":
        if _negated(phrase, sentence, start - base, end - base, vocab):
            return None
        if index not in contexts:
            contexts[index] = _context(doc, index, vocab)
        near_business, past = contexts[index]
        if past and phrase.category != "complaint":
            weight *= weights["past"]
        if (near_business or business) and phrase.category != "complaint":
            # "verwijder de oude offerte": everyday sense, no request unless it is personal
            weight *= weights["dampened"]
            dampened = True
            # personal: the phrase names the writer's own data, or its sentence speaks of
            # the writer ("ik word gebeld voor een afspraak ... mijn nummer"): a human decides
            personal = bool(_PERSONAL.search(doc.text[start:end]) or _OWN.search(sentence))
            signal = signal and (personal or not near_business)
        if phrase.category == "complaint" and not on_topic:
            # "ik wil een klacht indienen over de doorlooptijd": a complaint, but not about
            # personal data; a human decides when the writer speaks of their own person
            weight *= weights["dampened"]
            dampened = True
            signal = signal and bool(_OWN.search(sentence))
        clause, opener = _clause_before(sentence, start - base, vocab)
        if vocab.contrast.search(" ".join([opener, *clause])):
            weight *= weights["contrast"]
        weight *= vocab.priority.get(phrase.category, 1.0)
    if index < doc.subject_lines:
        weight *= weights["subject"]
    text = doc.text[start:end]
    subject = index < doc.subject_lines
    return Hit(phrase.category, phrase.tier, text, weight, dampened, signal, subject, start, end)


def _led_matches(phrase: Phrase, text: str) -> Iterator[re.Match[str]]:
    """What `finditer` gives for a phrase whose every match starts with one of its `lead`
    texts, trying only where one occurs: left to right, each match after the last."""
    starts: set[int] = set()
    for lead in phrase.lead:
        at = text.find(lead)
        while at >= 0:
            starts.add(at)
            at = text.find(lead, at + 1)
    end = 0
    for start in sorted(starts):
        if start >= end and (match := phrase.regex.match(text, start)):
            yield match
            end = match.end()


def _matches(phrase: Phrase, text: str) -> Iterator[re.Match[str]]:
    """The phrase's matches in `text`: searched only where one of its `lead` texts occurs
    when every match starts with one, else everywhere."""
    if phrase.lead:
        return _led_matches(phrase, text)
    return phrase.regex.finditer(text)


def find_hits(
    doc: Document,
    vocab: Vocabulary,
    *,
    business: bool = False,
    check: Callable[[], None] | None = None,
) -> list[Hit]:
    """Every phrase found, weighed; overlapping finds of one category keep the heaviest.

    `business`: the mail speaks for an organisation ("wij", "ons", no "ik"), so request
    phrases are read in their everyday sense and at most send the mail to triage.
    `check` is called after each phrase's search (recognition's time budget).
    """
    found: list[Hit] = []
    text = doc.text
    present = vocab.present(text)
    on_topic = bool(vocab.topic.search(text))
    contexts: dict[int, tuple[bool, bool]] = {}
    for number in vocab.index.phrases(present):
        phrase = vocab.phrases[number]
        # a cheap test first: the literal words the phrase cannot match without
        if any(needle.isdisjoint(present) for needle in phrase.needles):
            continue
        for match in _matches(phrase, text):
            hit = _hit(phrase, doc, match.span(), vocab, business, on_topic, contexts)
            if hit is not None:
                found.append(hit)
        if check is not None:
            check()
    return drop_contained(keep_heaviest(found))


def keep_heaviest(hits: Iterable[Hit]) -> list[Hit]:
    """Per category, the heaviest finds that do not overlap (of equal weight the longer, more
    specific reading). Sorting, then one binary search per find among those kept: n log n."""
    by_category: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_category[hit.category].append(hit)
    kept: list[Hit] = []
    for group in by_category.values():
        starts: list[int] = []  # kept finds are disjoint: sorted by start, also by end
        chosen: list[Hit] = []
        picked: list[Hit] = []  # in the order chosen: heaviest first
        for hit in sorted(group, key=lambda h: (-h.weight, h.start - h.end)):
            i = bisect_right(starts, hit.start)
            if i and chosen[i - 1].end > hit.start:
                continue
            if i < len(chosen) and chosen[i].start < hit.end:
                continue
            starts.insert(i, hit.start)
            chosen.insert(i, hit)
            picked.append(hit)
        kept.extend(picked)
    return kept


def drop_contained(hits: list[Hit]) -> list[Hit]:
    """`hits` without those inside a longer find of another category (the more specific
    reading). One sweep by start (longest first), keeping the furthest end reached by each
    of the two categories that reach furthest: n log n for the sort, then linear."""
    order = sorted(hits, key=lambda h: (h.start, -h.end))
    # (end, category) of the two categories whose earlier finds reach furthest
    first: tuple[int, str] = (-1, "")
    second: tuple[int, str] = (-1, "")
    dropped: set[int] = set()
    i = 0
    while i < len(order):
        # finds with the same span contain each other but are not longer: one group
        j = i
        span = (order[i].start, order[i].end)
        while j < len(order) and (order[j].start, order[j].end) == span:
            j += 1
        for k in range(i, j):
            hit = order[k]
            reach = second[0] if first[1] == hit.category else first[0]
            if reach >= hit.end:
                dropped.add(id(hit))
        for k in range(i, j):
            first, second = _furthest(first, second, (order[k].end, order[k].category))
        i = j
    return [h for h in hits if id(h) not in dropped]


def _furthest(
    first: tuple[int, str], second: tuple[int, str], new: tuple[int, str]
) -> tuple[tuple[int, str], tuple[int, str]]:
    """The two furthest reaches of distinct categories, with `new` taken in."""
    if new[1] == first[1]:
        return max(first, new), second
    if new[0] > first[0]:
        return new, first
    if new[1] == second[1] or new[0] > second[0]:
        return first, max(second, new) if new[1] == second[1] else new
    return first, second


def scores(hits: list[Hit], *, weak_other: bool = True) -> dict[str, float]:
    """Score per category; the subject line adds little once the body has spoken."""
    body: dict[str, float] = defaultdict(float)
    subject: dict[str, float] = defaultdict(float)
    for hit in hits:
        if hit.category == "other" and hit.tier == "weak" and not weak_other:
            continue
        (subject if hit.subject else body)[hit.category] += hit.weight
    return {c: body[c] + subject[c] * (0.25 if body[c] else 1.0) for c in {*body, *subject}}

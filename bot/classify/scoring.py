"""Find vocabulary phrases in a mail's sentences and weigh them in context."""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from .vocabulary import Phrase, Vocabulary

__all__ = ["Document", "Hit", "build_document", "find_hits", "scores"]

_WINDOW = 6


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
    """(dampened, past) for the sentence at `index`: business words nearby, earlier request."""
    line = doc.lines[index]
    near = [line] if index < doc.subject_lines else list(doc.lines[max(index - 1, 0) : index + 1])
    dampened = any(vocab.dampeners.search(x) for x in near)
    return dampened, bool(vocab.past.search(line))


def _hit(phrase: Phrase, doc: Document, start: int, end: int, vocab: Vocabulary) -> Hit | None:
    index = bisect_right(doc.starts, start) - 1
    sentence, base = doc.lines[index], doc.starts[index]
    weights = vocab.weights
    weight = weights[phrase.tier]
    dampened = False
    if phrase.category != "other":
        if _negated(phrase, sentence, start - base, end - base, vocab):
            return None
        near_business, past = _context(doc, index, vocab)
        if past and phrase.category != "complaint":
            weight *= weights["past"]
        if near_business and phrase.category != "complaint":
            weight *= weights["dampened"]
            dampened = True
        clause, opener = _clause_before(sentence, start - base, vocab)
        if vocab.contrast.search(" ".join([opener, *clause])):
            weight *= weights["contrast"]
        weight *= vocab.priority.get(phrase.category, 1.0)
    if index < doc.subject_lines:
        weight *= weights["subject"]
    return Hit(phrase.category, phrase.tier, doc.text[start:end], weight, dampened, start, end)


def find_hits(doc: Document, vocab: Vocabulary) -> list[Hit]:
    """Every phrase found, weighed; overlapping finds of one category keep the heaviest."""
    found: dict[str, list[Hit]] = defaultdict(list)
    for phrase in vocab.phrases:
        for match in phrase.regex.finditer(doc.text):
            hit = _hit(phrase, doc, match.start(), match.end(), vocab)
            if hit is not None:
                found[hit.category].append(hit)
    kept: list[Hit] = []
    for hits in found.values():
        chosen: list[Hit] = []
        for hit in sorted(hits, key=lambda h: -h.weight):
            if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
                chosen.append(hit)
        kept.extend(chosen)
    return kept


def scores(hits: list[Hit]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for hit in hits:
        total[hit.category] += hit.weight
    return dict(total)

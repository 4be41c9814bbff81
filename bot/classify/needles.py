"""The phrases' pre-test, indexed once at load time so a mail costs little to check.

Every phrase names texts its matches cannot do without (`Phrase.needles`). Instead of
looking for each of the thousand or so texts in every mail, the index files them under
their first three characters: only texts whose opening the mail contains are looked for.
Each phrase is filed under one of its needles (the rarest-looking), so a mail visits only
the phrases that one of its texts points to.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["NeedleIndex", "rarest"]

_GRAM = 3

Gram = tuple[str, ...]


def _grams(text: str) -> set[Gram]:
    return set(zip(*(text[i:] for i in range(_GRAM)), strict=False))


def rarest(needles: Sequence[frozenset[str]]) -> frozenset[str]:
    """The needle least likely to be in a mail: the one whose shortest text is longest
    (empty when there are none)."""
    if not needles:
        return frozenset()
    return max(needles, key=lambda texts: (min(map(len, texts)), -len(texts)))


@dataclass(frozen=True)
class NeedleIndex:
    """Texts by their opening characters, and phrase numbers by one needle's texts."""

    by_gram: Mapping[Gram, tuple[tuple[str, frozenset[Gram]], ...]]
    short: tuple[str, ...]
    by_text: Mapping[str, tuple[int, ...]]
    always: tuple[int, ...]

    @classmethod
    def build(cls, texts: Iterable[str], keys: Sequence[frozenset[str]]) -> "NeedleIndex":
        """`texts`: every needle text; `keys`: per phrase, in the vocabulary's order, the
        needle it is filed under (empty: a phrase without needles, always tried)."""
        texts = set(texts)
        by_gram: dict[Gram, list[tuple[str, frozenset[Gram]]]] = {}
        for text in sorted(texts):
            if len(text) >= _GRAM:
                entry = (text, frozenset(_grams(text)))
                by_gram.setdefault(tuple(text[:_GRAM]), []).append(entry)
        by_text: dict[str, list[int]] = {}
        always: list[int] = []
        for number, key in enumerate(keys):
            if not key:
                always.append(number)
            for text in key:
                by_text.setdefault(text, []).append(number)
        return cls(
            by_gram={g: tuple(ts) for g, ts in by_gram.items()},
            short=tuple(sorted(t for t in texts if len(t) < _GRAM)),
            by_text={t: tuple(ns) for t, ns in by_text.items()},
            always=tuple(always),
        )

    def present(self, text: str) -> set[str]:
        """Which of the indexed texts occur in `text` (each one a plain substring test)."""
        grams = _grams(text)
        by_gram = self.by_gram
        # a text whose three-letter pieces are not all in the mail cannot be in it
        found = {
            t
            for gram in grams.intersection(by_gram)
            for t, pieces in by_gram[gram]
            if pieces <= grams and t in text
        }
        found.update(t for t in self.short if t in text)
        return found

    def phrases(self, present: Iterable[str]) -> list[int]:
        """Numbers of the phrases one of whose needles `present` holds, in order, and of
        those without needles: a superset of the phrases that pass the pre-test."""
        numbers = set(self.always)
        by_text = self.by_text
        for text in present:
            numbers.update(by_text.get(text, ()))
        return sorted(numbers)

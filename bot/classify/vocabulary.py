"""Load the reviewable TOML vocabulary once and compile it into regular expressions."""

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot.categories import ALL_CATEGORIES, REQUEST_KINDS

from .needles import NeedleIndex, rarest

__all__ = [
    "CATEGORIES",
    "REQUEST_CATEGORIES",
    "TIERS",
    "Phrase",
    "Vocabulary",
    "compile_pattern",
    "leading_literals",
    "load_vocabulary",
    "required_literals",
]

REQUEST_CATEGORIES = REQUEST_KINDS
CATEGORIES = ALL_CATEGORIES
TIERS = ("strong", "medium", "weak")
_CUES_FILE = "cues.toml"
_NEGATION_WORDS = re.compile(r"(?<!\w)(niet|geen|not|don't|do not|no longer|never)(?!\w)")


@dataclass(frozen=True)
class Phrase:
    """One vocabulary pattern. Its regex is compiled when a mail first holds the phrase's
    needles: a one-mail process (`dsr ingest`) compiles a few dozen of the ~800 patterns."""

    category: str
    tier: str
    source: str
    carries_negation: bool
    needles: tuple[frozenset[str], ...] = ()
    """For each, texts of which the mail must hold one, or the phrase cannot match."""
    lead: frozenset[str] = frozenset()
    """Texts of which every match starts with one (`leading_literals`); empty: unknown."""
    key: frozenset[str] = frozenset()
    """The needle the phrase is filed under in the vocabulary's index (`needles.rarest`)."""

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        return compile_pattern(self.source)


@dataclass(frozen=True)
class Vocabulary:
    phrases: tuple[Phrase, ...]
    weights: Mapping[str, float]
    priority: Mapping[str, float]
    negation_before: re.Pattern[str]
    negation_after: re.Pattern[str]
    contrast: re.Pattern[str]
    boundaries: frozenset[str]
    dampeners: re.Pattern[str]
    topic: re.Pattern[str]
    past: re.Pattern[str]
    function_words: Mapping[str, frozenset[str]]
    spelling: Mapping[str, str]
    index: NeedleIndex
    footer_labels: frozenset[str] = frozenset()

    def present(self, text: str) -> set[str]:
        """Which of the phrases' `needles` occur in `text`."""
        return self.index.present(text)


def compile_pattern(source: str) -> re.Pattern[str]:
    """Translate the README's pattern syntax (`word*`, `*word`, ` ~ `) into a whole-word
    regex."""
    rx = " ".join(source.strip().lower().split())
    rx = rx.replace(" ~ ", r" (?:[^\s]+ ){0,5}")
    rx = re.sub(r"(?<=[\w\]])\*", r"\\w*", rx)
    rx = re.sub(r"(?<![^\s(|])\*(?=\w)", r"\\w*", rx)  # `*gegevens`: compounds too
    return re.compile(r"(?<![\w-])(?:" + rx + r")(?![\w-])")


_LITERAL = re.compile(r"[\w' -]+")


def _literal(text: str) -> str | None:
    """The plain text a pattern piece always starts with (`word*` gives `word`), or None."""
    head = text.split("*", 1)[0]
    return head if head.strip() and _LITERAL.fullmatch(head) else None


def _alternatives(token: str) -> tuple[str, ...]:
    """`(a|b c)` as ("a", "b c") when each is plain text; () when the token may match less."""
    inner = token[1:-1] if token.startswith("(") and token.endswith(")") else ""
    if not inner or "(" in inner or ")" in inner:
        return ()
    found = [_literal(alt.strip()) for alt in inner.split("|")]
    return tuple(f for f in found if f is not None) if all(found) else ()


def _tokens(source: str) -> list[str] | None:
    """The pattern's top-level words and groups; None when it has a top-level `|`."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    for char in " ".join(source.strip().lower().split()) + " ":
        if char == "|" and depth == 0:
            return None
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == " " and depth == 0:
            tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    return tokens


def required_literals(source: str) -> tuple[tuple[str, ...], ...]:
    """What every match of a pattern contains: for each top-level word or plain `(a|b)`
    group, the texts of which at least one must appear. Words inside optional groups, `~`
    gaps and a top-level `|` (then nothing is required) are left out."""
    needles: list[tuple[str, ...]] = []
    for token in _tokens(source) or ():
        word = _literal(token) if not token.startswith("(") else None
        options = (word,) if word else _alternatives(token)
        if options:
            needles.append(options)
    return tuple(needles)


_PLAIN_WORDS = re.compile(r"[\w'-]+(?: [\w'-]+)*")
_WORD_CHAR = re.compile(r"\w")


def _head(text: str) -> str | None:
    """The text every match of `word`, `word*...` or `b c*` starts with, or None."""
    head, star, _ = text.partition("*")
    if not _PLAIN_WORDS.fullmatch(head):
        return None
    # `*` after a word character is "any ending"; after `'` or `-` it would repeat them
    return head if not star or _WORD_CHAR.fullmatch(head[-1]) else None


def leading_literals(source: str) -> tuple[str, ...]:
    """Texts of which every match of a pattern starts with one: its first word when plain
    (`verwijder*`), or the alternatives of a plain first group (`(mijn|onze) gegevens`);
    () otherwise (`(een )?demo`, `*gegevens`, a top-level `|`)."""
    tokens = _tokens(source)
    if not tokens:
        return ()
    first = tokens[0]
    if first.startswith("("):
        inner = first[1:-1] if first.endswith(")") else "("
        if "(" in inner or ")" in inner:
            return ()
        heads = [_head(alt) for alt in inner.split("|")]
    else:
        heads = [_head(first)]
    return tuple(h for h in heads if h is not None) if all(heads) else ()


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    return compile_pattern("(" + "|".join(words) + ")")


def _phrases(table: Mapping[str, object]) -> list[Phrase]:
    found: list[Phrase] = []
    for category, tiers in table.items():
        if category not in CATEGORIES or not isinstance(tiers, dict):
            raise ValueError(f"unknown vocabulary category {category!r}; use one of {CATEGORIES}")
        for tier, sources in tiers.items():
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r} under [{category}]; use one of {TIERS}")
            for source in sources:
                carries = bool(_NEGATION_WORDS.search(source))
                needles = tuple(frozenset(n) for n in required_literals(source))
                lead = frozenset(leading_literals(source))
                key = rarest(needles)
                phrase = Phrase(category, tier, source, carries, needles, lead, key)
                found.append(phrase)
    return found


def _read(name: str) -> dict[str, object]:
    folder = resources.files("bot.classify") / "vocabulary"
    return tomllib.loads((folder / name).read_text(encoding="utf-8"))


def _cues(data: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in data.items() if isinstance(v, dict)}


@functools.cache
def load_vocabulary() -> Vocabulary:
    """Read every vocabulary file shipped in `bot/classify/vocabulary/` (cached)."""
    folder = resources.files("bot.classify") / "vocabulary"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    phrases = [p for name in names if name != _CUES_FILE for p in _phrases(_read(name))]
    cues = _cues(_read(_CUES_FILE))
    after = "|".join(cues["negation"]["after"])
    texts = frozenset(t for p in phrases for needle in p.needles for t in needle)
    return Vocabulary(
        phrases=tuple(phrases),
        index=NeedleIndex.build(texts, [p.key for p in phrases]),
        weights={k: float(v) for k, v in cues["weights"].items()},
        priority={k: float(v) for k, v in cues["priority"].items()},
        negation_before=_alternation(cues["negation"]["before"]),
        negation_after=re.compile(r"^\s*(?:" + after + r")(?!\w)"),
        contrast=_alternation(cues["contrast"]["cues"]),
        boundaries=frozenset(cues["clauses"]["boundaries"]),
        dampeners=_alternation(cues["dampeners"]["words"]),
        topic=_alternation(cues["topic"]["words"]),
        past=re.compile("|".join(f"(?:{p})" for p in cues["past"]["cues"])),
        function_words={k: frozenset(v) for k, v in cues["language"].items()},
        spelling={str(k): str(v) for k, v in cues.get("spelling", {}).items()},
        footer_labels=frozenset(cues.get("footer", {}).get("labels", ())),
    )

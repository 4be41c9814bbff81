"""Load the reviewable TOML vocabulary once and compile it into regular expressions."""

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot.categories import ALL_CATEGORIES, REQUEST_KINDS

__all__ = [
    "CATEGORIES",
    "REQUEST_CATEGORIES",
    "TIERS",
    "Phrase",
    "Vocabulary",
    "compile_pattern",
    "load_vocabulary",
]

REQUEST_CATEGORIES = REQUEST_KINDS
CATEGORIES = ALL_CATEGORIES
TIERS = ("strong", "medium", "weak")
_CUES_FILE = "cues.toml"
_NEGATION_WORDS = re.compile(r"(?<!\w)(niet|geen|not|don't|do not|no longer|never)(?!\w)")


@dataclass(frozen=True)
class Phrase:
    category: str
    tier: str
    source: str
    regex: re.Pattern[str]
    carries_negation: bool


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
    past: re.Pattern[str]
    function_words: Mapping[str, frozenset[str]]
    spelling: Mapping[str, str]


def compile_pattern(source: str) -> re.Pattern[str]:
    """Translate the README's pattern syntax (`word*`, ` ~ `) into a whole-word regex."""
    rx = " ".join(source.strip().lower().split())
    rx = rx.replace(" ~ ", r" (?:[^\s]+ ){0,5}")
    rx = re.sub(r"(?<=[\w\]])\*", r"\\w*", rx)
    return re.compile(r"(?<![\w-])(?:" + rx + r")(?![\w-])")


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
                found.append(Phrase(category, tier, source, compile_pattern(source), carries))
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
    return Vocabulary(
        phrases=tuple(phrases),
        weights={k: float(v) for k, v in cues["weights"].items()},
        priority={k: float(v) for k, v in cues["priority"].items()},
        negation_before=_alternation(cues["negation"]["before"]),
        negation_after=re.compile(r"^\s*(?:" + after + r")(?!\w)"),
        contrast=_alternation(cues["contrast"]["cues"]),
        boundaries=frozenset(cues["clauses"]["boundaries"]),
        dampeners=_alternation(cues["dampeners"]["words"]),
        past=re.compile("|".join(f"(?:{p})" for p in cues["past"]["cues"])),
        function_words={k: frozenset(v) for k, v in cues["language"].items()},
        spelling={str(k): str(v) for k, v in cues.get("spelling", {}).items()},
    )

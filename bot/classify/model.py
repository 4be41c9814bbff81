"""A small learned component: one softmax (multinomial logistic) regression over word features.

Trained by `tests/corpus/train.py` on the development half of the corpus and shipped as
`bot/classify/model.json` (reviewable: one line per feature with its weight per category).
Features generalise across writers: lower-cased, accent-free words cut to a light stem,
pairs of neighbouring stems, stems marked as negated after "niet"/"not"/..., character
5-grams inside long (compound) words, and the subject's stems marked apart. Every answer
names the features that pushed it, as the words of the mail they came from.
"""

import functools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["Model", "Prediction", "features", "load_model", "stem"]

_MODEL_FILE = "model.json"
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'@.-]*[a-z0-9]|[a-z0-9]")
_NEGATORS = frozenset({"niet", "geen", "nooit", "not", "never", "don't", "dont", "no", "nor"})
_NEGATION_REACH = 3
_GRAM = 5
_LONG_WORD = 9
# longest first: the first ending that leaves a stem of at least four letters is cut
_SUFFIXES = tuple(
    sorted(
        (
            "heden heid ingen ing tjes tje jes je en ende end de te ed es er ers e s t d "
            "ly ies ied y"
        ).split(),
        key=len,
        reverse=True,
    )
)
_STEM_LENGTH = 7
_TIGHT: dict[str, Any] = {"separators": (",", ":")}


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light, language-blind stem: one common ending cut, then at most seven letters."""
    if word.isdigit():
        return "#"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:_STEM_LENGTH]


def _words(line: str) -> list[list[str]]:
    """Clauses (split at commas) of a normalised line, as lists of words."""
    return [_TOKEN.findall(part) for part in line.split(",")]


def features(subject: Iterable[str], body: Iterable[str]) -> dict[str, str]:
    """Feature name -> the mail's words that produced it (first occurrence)."""
    found: dict[str, str] = {}
    add = found.setdefault
    for line in subject:
        for clause in _words(line):
            for word in clause:
                add("s:" + stem(word), word)
    for line in body:
        for clause in _words(line):
            _clause_features(clause, add)
    return found


def _clause_features(clause: list[str], add: Callable[[str, str], str]) -> None:
    """Stems, pairs of neighbouring stems, negated stems and compound 5-grams of a clause."""
    negated_until = -1
    previous_word = previous_stem = ""
    for i, word in enumerate(clause):
        st = stem(word)
        add(st, word)
        if i > 0:
            add(previous_stem + " " + st, previous_word + " " + word)
        if i <= negated_until:
            add("!" + st, "... " + word)
        if word in _NEGATORS:
            negated_until = i + _NEGATION_REACH
        if len(word) >= _LONG_WORD and not word.isdigit():
            for j in range(len(word) - _GRAM + 1):
                add("~" + word[j : j + _GRAM], word)
        previous_word, previous_stem = word, st


@dataclass(frozen=True)
class Prediction:
    probabilities: Mapping[str, float]
    _pushes: Mapping[str, tuple[tuple[float, str], ...]]

    def reasons(self, category: str) -> tuple[tuple[float, str], ...]:
        """(contribution, the mail's words) of the features that count for `category`."""
        return self._pushes.get(category, ())

    def top_words(self, category: str, count: int) -> list[str]:
        """The first `count` different words of `reasons(category)`, in that order."""
        return list(dict.fromkeys(w for _, w in self.reasons(category)))[:count]


@dataclass(frozen=True)
class Model:
    categories: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]

    def predict(self, found: Mapping[str, str]) -> Prediction:
        weights = self.weights
        known = list(filter(weights.__contains__, found))
        scale = 1.0 / math.sqrt(max(len(found), 1))
        logits = list(self.bias)
        columns: list[tuple[float, ...]] = []
        if known:
            # per category: bias + w1 x scale + w2 x scale + ..., added in the features' order
            columns = list(zip(*map(weights.__getitem__, known), strict=True))
            pairs = zip(logits, columns, strict=True)
            logits = [_fold(bias, column, scale) for bias, column in pairs]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        probabilities = {c: e / total for c, e in zip(self.categories, exps, strict=True)}
        return Prediction(probabilities, _Pushes(self, columns, known, found, scale))

    def dumps(self) -> str:
        """The model file: weights in hundredths, one feature a line, for review and diffs."""
        head = json.dumps(
            {"categories": list(self.categories), "bias": [_cents(b) for b in self.bias]}
        )
        lines = [
            json.dumps(n, ensure_ascii=False) + ":" + json.dumps([_cents(w) for w in ws], **_TIGHT)
            for n, ws in sorted(self.weights.items())
        ]
        return head[:-1] + ', "scale": 100, "weights": {\n' + ",\n".join(lines) + "\n}}\n"

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "Model":
        categories = data["categories"]
        bias = data["bias"]
        weights = data["weights"]
        scale = float(str(data.get("scale", 1)))
        if not (
            isinstance(categories, list) and isinstance(bias, list) and isinstance(weights, dict)
        ):
            raise ValueError("model file: categories, bias and weights expected")
        width = len(categories)
        if len(bias) != width or any(
            not isinstance(ws, list) or len(ws) != width for ws in weights.values()
        ):
            raise ValueError(f"model file: {width} weights per feature expected")
        return cls(
            tuple(str(c) for c in categories),
            tuple(float(b) / scale for b in bias),
            _ScaledWeights(weights, scale),
        )


class _ScaledWeights(Mapping[str, tuple[float, ...]]):
    """The model file's weights, each feature's divided by the file's scale when first read:
    a mail uses a few hundred of the ~16,000 features, so a one-mail process converts few."""

    def __init__(self, raw: Mapping[str, list[float]], scale: float) -> None:
        self._raw, self._scale = raw, scale
        self._done: dict[str, tuple[float, ...]] = {}

    def __getitem__(self, name: str) -> tuple[float, ...]:
        found = self._done.get(name)
        if found is None:
            found = self._done[name] = tuple(float(w) / self._scale for w in self._raw[name])
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _fold(start: float, weights: Iterable[float], scale: float) -> float:
    total = start
    for w in weights:
        total += w * scale
    return total


class _Pushes(Mapping[str, tuple[tuple[float, str], ...]]):
    """Per category, the features that pushed towards it, heaviest first (computed on use)."""

    def __init__(
        self,
        model: Model,
        columns: list[tuple[float, ...]],
        known: list[str],
        found: Mapping[str, str],
        scale: float,
    ) -> None:
        """`columns`: per category, the weights of the mail's `known` features."""
        self._model, self._columns, self._known = model, columns, known
        self._found, self._scale = found, scale

    def _unsorted(self, category: str) -> list[tuple[float, str]]:
        if category not in self._model.categories:
            raise KeyError(category)
        if not self._columns:
            return []
        column, scale = self._columns[self._model.categories.index(category)], self._scale
        found = self._found
        # scale > 0: a feature pushes towards the category exactly when its weight is positive
        return [(w * scale, found[n]) for w, n in zip(column, self._known, strict=True) if w > 0]

    def __getitem__(self, category: str) -> tuple[tuple[float, str], ...]:
        return tuple(sorted(self._unsorted(category), key=lambda x: -x[0]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._model.categories)

    def __len__(self) -> int:
        return len(self._model.categories)


def _cents(value: float) -> int:
    return round(value * 100)


@functools.cache
def load_model() -> Model:
    """The shipped model (`bot/classify/model.json`), read once."""
    text = (resources.files("bot.classify") / _MODEL_FILE).read_text(encoding="utf-8")
    return Model.from_json(json.loads(text))

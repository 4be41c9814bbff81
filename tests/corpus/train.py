"""Train the classifier's learned component on the development half; cross-validate it.

Run: `uv run python tests/corpus/train.py` writes `bot/classify/model.json` from every dev
mail. `--cv` first scores leave-one-source-file-out (each dev*.txt was written by another
author, so a fold is an unseen writer), over a small grid of lexicon/model fusion settings.
The held-out half is never read here.
"""

import argparse
import importlib.util
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.classify import CATEGORIES, Classification  # noqa: E402
from bot.classify.engine import FUSION, Fusion, Prepared, classify_prepared, prepare  # noqa: E402
from bot.classify.model import Model, features  # noqa: E402

MODEL_FILE = ROOT / "bot" / "classify" / "model.json"
EPOCHS = int(os.environ.get("TRAIN_EPOCHS", "30"))
RATE = float(os.environ.get("TRAIN_RATE", "0.4"))
L2 = float(os.environ.get("TRAIN_L2", "1e-4"))
MIN_DF = int(os.environ.get("TRAIN_MIN_DF", "2"))
MIN_WEIGHT = float(os.environ.get("TRAIN_MIN_WEIGHT", "0.05"))
SEED = 20260302


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("classify_bench", ROOT / "benchmarks/classify.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("benchmarks/classify.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Example:
    file: str
    source: str
    category: str
    mail: Prepared
    found: dict[str, str]
    person: bool


def examples() -> list[Example]:
    """Every dev mail of the corpus (tests/corpus/labels.csv), read as the classifier reads it."""
    found = []
    for m in _benchmark().load_corpus():
        if m.split != "dev":
            continue
        mail = prepare(m.text, m.subject, m.headers)
        feats = features(mail.subject, mail.body)
        found.append(Example(m.file, m.source, m.category, mail, feats, mail.auto_reply is None))
    return found


def train(data: Sequence[Example]) -> Model:
    """Softmax regression by AdaGrad; a person's mails only (auto-replies are told by headers)."""
    cats = CATEGORIES
    people = [e for e in data if e.person]
    df = Counter(name for e in people for name in e.found)
    vocab = {name for name, n in df.items() if n >= MIN_DF}
    rows = []
    for e in people:
        names = [n for n in e.found if n in vocab]
        rows.append((names, 1.0 / math.sqrt(max(len(e.found), 1)), cats.index(e.category)))
    weights = {n: [0.0] * len(cats) for n in vocab}
    squares = {n: [1e-8] * len(cats) for n in vocab}
    bias = [0.0] * len(cats)
    bias_sq = [1e-8] * len(cats)
    rng = random.Random(SEED)
    for _ in range(EPOCHS):
        rng.shuffle(rows)
        for names, x, y in rows:
            logits = list(bias)
            for n in names:
                w = weights[n]
                for k in range(len(cats)):
                    logits[k] += w[k] * x
            top = max(logits)
            exps = [math.exp(v - top) for v in logits]
            total = sum(exps)
            grad = [e / total for e in exps]
            grad[y] -= 1.0
            for k, g in enumerate(grad):
                bias_sq[k] += g * g
                bias[k] -= RATE * g / math.sqrt(bias_sq[k])
            for n in names:
                w, sq = weights[n], squares[n]
                for k, g in enumerate(grad):
                    step = g * x + L2 * w[k]
                    sq[k] += step * step
                    w[k] -= RATE * step / math.sqrt(sq[k])
    # hundredths: what the shipped file holds, so cross-validation scores the same numbers
    # a feature's weights moved together do not change the softmax: keep them centred, small
    centred = {n: [v - sum(w) / len(w) for v in w] for n, w in weights.items()}
    kept = {
        n: tuple(round(v, 2) for v in w)
        for n, w in centred.items()
        if max(abs(v) for v in w) >= MIN_WEIGHT
    }
    return Model(cats, tuple(round(b, 2) for b in bias), kept)


@dataclass(frozen=True)
class Scored:
    example: Example
    result: Classification


def _figures(scored: Sequence[Scored]) -> dict[str, float]:
    n = len(scored)
    right = sum(s.result.category == s.example.category for s in scored)
    leaked = sum(
        s.example.category != "other" and s.result.category == "other" and not s.result.needs_triage
        for s in scored
    )
    triage = sum(s.result.needs_triage for s in scored)
    return {"n": n, "accuracy": right / n, "leaked": leaked, "triage": triage / n}


def _line(name: str, f: dict[str, float]) -> str:
    return (
        f"  {name:<34} n={int(f['n']):>3} accuracy {f['accuracy']:.3f}  requests as other "
        f"w/o triage {int(f['leaked']):>2}  triage {f['triage']:.3f}"
    )


def cross_validate(data: Sequence[Example], grid: Sequence[Fusion]) -> dict[Fusion, list[Scored]]:
    """Leave one source file (one writer) out; every fusion setting scored on the same folds."""
    out: dict[Fusion, list[Scored]] = {f: [] for f in grid}
    for source in sorted({e.source for e in data}):
        model = train([e for e in data if e.source != source])
        for e in data:
            if e.source == source:
                for f in grid:
                    out[f].append(Scored(e, classify_prepared(e.mail, model=model, fusion=f)))
    return out


def report(scored: Sequence[Scored]) -> None:
    print(_line("all folds", _figures(scored)))
    for source in sorted({s.example.source for s in scored}):
        print(
            _line(
                f"held out {source}.txt",
                _figures([s for s in scored if s.example.source == source]),
            )
        )
    print(f"  {'category':<20}{'n':>4}{'precision':>11}{'recall':>8}")
    for cat in CATEGORIES:
        truth = sum(s.example.category == cat for s in scored)
        said = [s for s in scored if s.result.category == cat]
        hit = sum(s.example.category == cat for s in said)
        p = hit / len(said) if said else float("nan")
        r = hit / truth if truth else float("nan")
        print(f"  {cat:<20}{truth:>4}{p:>11.2f}{r:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-file-out figures first")
    parser.add_argument("--grid", action="store_true", help="also try other fusion settings")
    parser.add_argument("--errors", action="store_true", help="list cross-validated misses")
    parser.add_argument("--no-write", action="store_true", help="leave model.json as it is")
    args = parser.parse_args()
    data = examples()
    print(f"{len(data)} dev mails from {sorted(Counter(e.source for e in data).items())}")
    if args.cv:
        grid = [FUSION]
        if args.grid:
            grid += [
                replace(FUSION, request_bar=bar, short=short, everyday_bar=everyday)
                for bar in (0.1, 0.15, 0.2)
                for short in (0.0, 10.0, 20.0)
                for everyday in (0.3, 0.5)
            ]
        grid = list(dict.fromkeys(grid))
        results = cross_validate(data, grid)
        for fusion, scored in results.items():
            name = f"bar {fusion.request_bar} short {fusion.short} everyday {fusion.everyday_bar}"
            fresh = [s for s in scored if s.example.source not in ("dev", "dev2")]
            print(_line(name, _figures(scored)) + "  |" + _line("", _figures(fresh))[40:])
        print(f"\nleave-one-file-out, shipped fusion {FUSION}:")
        report(results[FUSION])
        if args.errors:
            for s in results[FUSION]:
                r = s.result
                if r.category != s.example.category or r.needs_triage:
                    print(
                        f"  {s.example.file}: truth={s.example.category} said={r.category} "
                        f"conf={r.confidence:.2f} triage={r.needs_triage} {list(r.evidence)}"
                    )
    if args.no_write:
        return
    model = train(data)
    MODEL_FILE.write_text(model.dumps(), encoding="utf-8")
    print(
        f"wrote {MODEL_FILE.relative_to(ROOT)}: {len(model.weights)} features, "
        f"{MODEL_FILE.stat().st_size / 1000:.0f} kB"
    )


if __name__ == "__main__":
    main()

"""Score the request classifier on the labelled corpus (tests/corpus), per half.

Run: `uv run python benchmarks/classify.py [--split dev|heldout|all] [--errors]`.
Prints accuracy, per-category precision/recall, the confusion matrix, requests that came out
as `other` without triage, the triage share, time per mail, peak memory and cold-start time,
then the routes (case, review, ignore) and the time against text size of benchmarks/routes.py.
"""

import argparse
import csv
import importlib.util
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
sys.path.insert(0, str(ROOT))

from bot.classify import CATEGORIES, Classification, classify  # noqa: E402


@dataclass(frozen=True)
class Mail:
    file: str
    category: str
    also: tuple[str, ...]
    language: str
    split: str
    text: str
    subject: str
    headers: Mapping[str, str]
    source: str = ""


@dataclass(frozen=True)
class Outcome:
    mail: Mail
    result: Classification
    seconds: float


def _read(raw: bytes) -> tuple[str, str, Mapping[str, str]]:
    try:
        from bot.mail.parse import parse_message
    except ImportError:  # the mail parser is another engineer's work; fall back to stdlib
        msg = message_from_bytes(raw, policy=policy.default)
        if not isinstance(msg, EmailMessage):
            return "", "", {}
        body = msg.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        return text, str(msg.get("Subject", "")), {k: str(v) for k, v in msg.items()}
    parsed = parse_message(raw)
    return parsed.text, parsed.subject, parsed.headers


def load_corpus() -> list[Mail]:
    mails = []
    with (CORPUS / "labels.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text, subject, headers = _read((CORPUS / row["file"]).read_bytes())
            also = tuple(x for x in row["also"].split(";") if x)
            mails.append(
                Mail(
                    row["file"],
                    row["category"],
                    also,
                    row["language"],
                    row["split"],
                    text,
                    subject,
                    headers,
                    row.get("source", ""),
                )
            )
    return mails


def run(mails: list[Mail]) -> list[Outcome]:
    outcomes = []
    for mail in mails:
        start = time.perf_counter()
        result = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
        outcomes.append(Outcome(mail, result, time.perf_counter() - start))
    return outcomes


def request_as_other(outcomes: list[Outcome]) -> list[Outcome]:
    return [
        o
        for o in outcomes
        if o.mail.category != "other" and o.result.category == "other" and not o.result.needs_triage
    ]


def accuracy(outcomes: list[Outcome]) -> float:
    return sum(o.result.category == o.mail.category for o in outcomes) / max(len(outcomes), 1)


def triage_share(outcomes: list[Outcome]) -> float:
    return sum(o.result.needs_triage for o in outcomes) / max(len(outcomes), 1)


def _per_category(outcomes: list[Outcome]) -> None:
    print(f"  {'category':<20}{'n':>4}{'precision':>11}{'recall':>8}")
    for cat in CATEGORIES:
        truth = [o for o in outcomes if o.mail.category == cat]
        said = [o for o in outcomes if o.result.category == cat]
        hit = sum(o.mail.category == cat for o in said)
        precision = hit / len(said) if said else float("nan")
        recall = hit / len(truth) if truth else float("nan")
        print(f"  {cat:<20}{len(truth):>4}{precision:>11.2f}{recall:>8.2f}")


def _confusion(outcomes: list[Outcome]) -> None:
    short = [c[:5] for c in CATEGORIES]
    print("  truth \\ said         " + " ".join(f"{s:>5}" for s in short))
    counts = Counter((o.mail.category, o.result.category) for o in outcomes)
    for cat in CATEGORIES:
        row = " ".join(f"{counts[(cat, said)]:>5}" for said in CATEGORIES)
        print(f"  {cat:<21}{row}")


def report(name: str, outcomes: list[Outcome], *, errors: bool) -> None:
    if not outcomes:
        print(f"\n== {name}: no mails ==")
        return
    times = sorted(o.seconds * 1000 for o in outcomes)
    also_right = sum(set(o.result.also) == set(o.mail.also) for o in outcomes)
    lang_right = sum(o.result.language == o.mail.language for o in outcomes)
    leaked = request_as_other(outcomes)
    print(f"\n== {name}: {len(outcomes)} mails ==")
    print(f"  primary category accuracy: {accuracy(outcomes):.3f}")
    print(f"  'also' exactly right:      {also_right / len(outcomes):.3f}")
    print(f"  language right:            {lang_right / len(outcomes):.3f}")
    print(f"  requests as other w/o triage: {len(leaked)} ({len(leaked) / len(outcomes):.3f})")
    print(f"  sent to triage:            {triage_share(outcomes):.3f}")
    print(
        f"  time per mail: median {statistics.median(times):.2f} ms, "
        f"p99 {times[min(len(times) - 1, int(len(times) * 0.99))]:.2f} ms"
    )
    _per_category(outcomes)
    _confusion(outcomes)
    if errors:
        for o in outcomes:
            wrong = o.result.category != o.mail.category
            if wrong or o.result.needs_triage or set(o.result.also) != set(o.mail.also):
                r = o.result
                print(
                    f"  {o.mail.file}: truth={o.mail.category}+{list(o.mail.also)} "
                    f"said={r.category}+{list(r.also)} conf={r.confidence:.2f} "
                    f"triage={r.needs_triage} evidence={list(r.evidence)}"
                )


def cold_start() -> float:
    code = (
        "import time; t = time.perf_counter(); from bot.classify import classify; "
        "classify(text='Kunt u mij alles sturen wat u over mij heeft?'); "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument(
        "--no-cv", action="store_true", help="skip the leave-one-file-out figures (dev half)"
    )
    parser.add_argument("--no-routes", action="store_true", help="skip benchmarks/routes.py")
    args = parser.parse_args()
    mails = load_corpus()
    print(f"import + first classification (fresh process): {cold_start() * 1000:.0f} ms")
    tracemalloc.start()
    outcomes = run(mails)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    outcomes = run(mails)  # timed again without tracemalloc's overhead
    print(f"peak memory while classifying the corpus (tracemalloc): {peak / 1e6:.1f} MB")
    for split in ("dev", "heldout"):
        if args.split in (split, "all"):
            report(split, [o for o in outcomes if o.mail.split == split], errors=args.errors)
    if not args.no_cv and args.split in ("dev", "all"):
        cross_validated()
    if not args.no_routes:
        routes()


def routes() -> None:
    """The route figures (benchmarks/routes.py), so that CI prints them with these."""
    spec = importlib.util.spec_from_file_location("routes", Path(__file__).parent / "routes.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("benchmarks/routes.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([])


def cross_validated() -> None:
    """Leave one dev source file (one writer) out: the learned part retrained without it."""
    spec = importlib.util.spec_from_file_location("train", CORPUS / "train.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("tests/corpus/train.py not found")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    data = train.examples()
    print(f"\n== dev, leave-one-source-file-out ({len(data)} mails) ==")
    train.report(train.cross_validate(data, [train.FUSION])[train.FUSION])


if __name__ == "__main__":
    main()

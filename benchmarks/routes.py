"""Where recognition sends mail: case, review, ignore or breach, on ordinary mail, requests
and breach notices.

Run: `uv run python benchmarks/routes.py [--errors] [--sizes]` (benchmarks/classify.py runs it
too). Prints, against the targets:
- ordinary mail written by other mail projects (`../shared/peermail`, label `ordinary`) and
  the corpus's ordinary secretariat mail (category `other`): share routed case and review;
- requests of the blind held-out corpus half: lost (ignored), case with the right kind (a
  complaint about a breach of the writer's data routed `breach` counts as right), review;
  per language;
- breach notices (tests/corpus/breach, dev and heldout; the blind sets tests/corpus/blind and
  tests/corpus/breach_blind): share routed breach (recall), review, case, lost; near misses
  routed breach; requests and ordinary mail of the corpus routed breach;
- median recognition time, and time against text size (1 KB to 8 MB: at most `MAX_TEXT`
  characters are read, so the time stops growing past it).
"""

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERMAIL = ROOT.parent / "shared" / "peermail"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify import load_corpus  # noqa: E402

from bot.classify import classify  # noqa: E402
from bot.classify.budget import MAX_TEXT  # noqa: E402
from bot.classify.result import Classification  # noqa: E402
from bot.mail.parse import parse_message  # noqa: E402

ORDINARY_CASE, ORDINARY_REVIEW = 0.02, 0.05
REQUEST_CASE, REQUEST_REVIEW = 0.95, 0.05
MEDIAN_MS = 5.0


@dataclass(frozen=True)
class Routed:
    name: str
    truth: str
    language: str
    result: Classification
    seconds: float


def _classify(name: str, truth: str, language: str, raw: bytes) -> Routed:
    mail = parse_message(raw)
    start = time.perf_counter()
    result = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
    return Routed(name, truth, language, result, time.perf_counter() - start)


def peermail() -> list[Routed]:
    """The ordinary mails of ../shared/peermail ([] when the folder is not there)."""
    labels_file = PEERMAIL / "labels.json"
    if not labels_file.is_file():
        return []
    labels = json.loads(labels_file.read_text(encoding="utf-8"))
    return [
        _classify(name, "other", "", (PEERMAIL / name).read_bytes())
        for name, label in sorted(labels.items())
        if label == "ordinary"
    ]


def corpus(split: str) -> list[Routed]:
    found = []
    for mail in load_corpus():
        if mail.split == split:
            start = time.perf_counter()
            result = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
            seconds = time.perf_counter() - start
            found.append(Routed(mail.file, mail.category, mail.language, result, seconds))
    return found


BLIND = ROOT / "tests" / "corpus" / "blind"
BREACH = ROOT / "tests" / "corpus" / "breach"
BREACH_BLIND = ROOT / "tests" / "corpus" / "breach_blind"
BREACH_RECALL = 0.95


@dataclass(frozen=True)
class Labelled(Routed):
    split: str = ""


def labelled(folder: Path) -> list[Labelled]:
    """A labelled folder (labels.csv: file, label, language[, split]); [] when absent."""
    import csv

    if not (folder / "labels.csv").is_file():
        return []
    found = []
    with (folder / "labels.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            item = _classify(
                row["file"], row["label"], row["language"], (folder / row["file"]).read_bytes()
            )
            found.append(Labelled(*vars(item).values(), split=row.get("split", "")))
    return found


def breach(name: str, items: Sequence[Routed], *, errors: bool) -> bool:
    """Breach notices: share routed breach (the recall), review, case, and lost (ignored)."""
    lost = [r for r in items if r.result.route == "ignore"]
    recall = _share(items, "breach")
    ok = not lost and recall >= BREACH_RECALL
    print(
        f"  {name:<44} n={len(items):>4}  breach {recall:6.1%} (>= {BREACH_RECALL:.0%})  "
        f"review {_share(items, 'review'):6.1%}  case {_share(items, 'case'):6.1%}  "
        f"lost {len(lost)} (0)  {_mark(ok)}"
    )
    if errors:
        _list(r for r in items if r.result.route != "breach")
    return ok


def blind() -> list[Routed]:
    """260 mails by a writer who never saw the code (tests/corpus/blind, labels.csv: file,
    label, language; label other, breach or the request's kind), scored once when written."""
    import csv

    with (BLIND / "labels.csv").open(encoding="utf-8") as rows:
        return [
            _classify(
                row["file"], row["label"], row["language"], (BLIND / row["file"]).read_bytes()
            )
            for row in csv.DictReader(rows)
        ]


def _share(items: Sequence[Routed], route: str) -> float:
    return sum(r.result.route == route for r in items) / max(len(items), 1)


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def ordinary(name: str, items: Sequence[Routed], *, errors: bool, target: bool = True) -> bool:
    """Shares routed case and review; checked against the targets when `target`."""
    case, review = _share(items, "case"), _share(items, "review")
    ok = case <= ORDINARY_CASE and review <= ORDINARY_REVIEW
    verdict = f"(<= {ORDINARY_CASE:.0%}, <= {ORDINARY_REVIEW:.0%}) {_mark(ok)}" if target else ""
    print(f"  {name:<44} n={len(items):>4}  case {case:6.1%}  review {review:6.1%}  {verdict}")
    if errors:
        _list(r for r in items if r.result.route != "ignore")
    return ok


def requests(name: str, items: Sequence[Routed], *, errors: bool) -> bool:
    asks = [r for r in items if r.truth != "other"]
    lost = [r for r in asks if r.result.route == "ignore"]
    right = sum(r.result.route == "case" and r.result.category == r.truth for r in asks)
    # a complaint about a breach of the writer's data takes the breach track by design
    breach = sum(r.result.route == "breach" and r.truth == "complaint" for r in asks)
    case_right, review = (right + breach) / max(len(asks), 1), _share(asks, "review")
    ok = not lost and case_right >= REQUEST_CASE and review <= REQUEST_REVIEW
    print(
        f"  {name:<44} n={len(asks):>4}  lost {len(lost)} (0)  case, right kind "
        f"{case_right:6.1%} (>= {REQUEST_CASE:.0%}; {breach} breach complaints)  review "
        f"{review:6.1%} (<= {REQUEST_REVIEW:.0%})  {_mark(ok)}"
    )
    if errors:
        _list(
            r
            for r in asks
            if (r.result.route != "case" or r.result.category != r.truth)
            and not (r.result.route == "breach" and r.truth == "complaint")
        )
    return ok


def _list(items: Iterable[Routed]) -> None:
    for r in items:
        x = r.result
        print(
            f"    {r.name}: truth={r.truth} route={x.route} said={x.category} "
            f"conf={x.confidence:.2f} reason={x.reason!r} evidence={list(x.evidence[:4])}"
        )


def _request_like(size: int) -> str:
    """About `size` characters of a long mail that asks for access near its top."""
    head = "Geachte heer, mevrouw,\n\nIk wil graag inzage in mijn persoonsgegevens.\n\n"
    filler = (
        "Ik wil weten welke gegevens u van mij bewaart, waar u ze vandaan heeft en aan wie "
        "u ze heeft gegeven; stuurt u mij daarvan een kopie. "
    )
    return (head + filler * (size // len(filler) + 1))[:size]


def sizes() -> None:
    """Best of three, in this process's CPU time (steadier than the wall clock on a shared
    machine) and in wall time."""
    print("\n== recognition time against text size (one request-like mail) ==")
    print(f"  at most {MAX_TEXT:,} characters of new text are read")
    for label, size in (
        ("1 KB", 1 << 10),
        ("64 KB", 1 << 16),
        ("1 MB", 1 << 20),
        ("8 MB", 1 << 23),
    ):
        text = _request_like(size)
        result = classify(text=text)
        cpu, wall = [], []
        for _ in range(3):
            start_cpu, start = time.process_time(), time.perf_counter()
            classify(text=text)
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start)
        read = min(size, MAX_TEXT) / 1024
        print(
            f"  {label:>6}: CPU {min(cpu) * 1000:7.1f} ms, {min(cpu) * 1000 / read:5.2f} ms per KB "
            f"read (wall {min(wall) * 1000:7.1f} ms)  route={result.route} "
            f"category={result.category}"
        )


def main(argv: Sequence[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list every mail off target")
    parser.add_argument("--no-sizes", action="store_true", help="skip the text-size figures")
    args = parser.parse_args(argv)
    peer = peermail()
    dev, heldout = corpus("dev"), corpus("heldout")
    print("\n== routes: ordinary mail ==")
    ok = True
    if peer:
        ok &= ordinary("peermail, label ordinary", peer, errors=args.errors)
    else:
        print(f"  {PEERMAIL} not present: peermail figures skipped")
    day = [r for r in (*dev, *heldout) if r.name.startswith("mails/o")]
    for source, prefix in (("dev10", "mails/o1"), ("heldout6", "mails/o2")):
        part = [r for r in day if r.name.startswith(prefix)]
        ok &= ordinary(f"secretariat day ({source})", part, errors=args.errors)
    print("  the corpus's ordinary mail, hard cases included (figures, no target):")
    for split, items in (("dev", dev), ("heldout", heldout)):
        others = [r for r in items if r.truth == "other" and not r.result.auto_reply]
        for language in ("nl", "en"):
            part = [r for r in others if r.language == language]
            ordinary(f"  {split}, {language}", part, errors=False, target=False)
    print("\n== routes: requests ==")
    for split, items in (("dev", dev), ("heldout", heldout)):
        ok &= requests(f"corpus {split}", items, errors=args.errors and split == "heldout")
        for language in ("nl", "en"):
            requests(f"  {language}", [r for r in items if r.language == language], errors=False)
    held = blind()
    print("\n== routes: the blind set (a writer who never saw the code) ==")
    for language in ("nl", "en"):
        part = [r for r in held if r.language == language]
        ordinary(f"ordinary, {language}", [r for r in part if r.truth == "other"], errors=False)
        requests(
            f"requests, {language}",
            [r for r in part if r.truth not in {"other", "breach"}],
            errors=args.errors,
        )
    breach("breach notices", [r for r in held if r.truth == "breach"], errors=args.errors)
    print("\n== routes: breach notices (route breach; review acceptable, never ignore) ==")
    own = labelled(BREACH)
    for split in ("dev", "heldout"):
        part = [r for r in own if r.split == split]
        for language in ("nl", "en"):
            notices = [r for r in part if r.truth == "breach" and r.language == language]
            ok &= breach(f"breach corpus {split}, {language}", notices, errors=args.errors)
        near = [r for r in part if r.truth != "breach"]
        print(
            f"  breach corpus {split}, near misses (not a breach): n={len(near)}  "
            f"routed breach {_share(near, 'breach'):.1%}"
        )
    blind_breaches = labelled(BREACH_BLIND)
    if blind_breaches:
        for language in ("nl", "en"):
            notices = [r for r in blind_breaches if r.truth == "breach" and r.language == language]
            breach(f"breach_blind (held out), {language}", notices, errors=args.errors)
        near = [r for r in blind_breaches if r.truth != "breach"]
        if near:
            print(
                f"  breach_blind, not a breach: n={len(near)}  routed breach "
                f"{_share(near, 'breach'):.1%}  {Counter(r.result.route for r in near)}"
            )
    else:
        print(f"  {BREACH_BLIND} not present: held-out breach figures skipped")
    asks = [r for r in (*dev, *heldout) if r.truth != "other"]
    plain = [r for r in (*dev, *heldout) if r.truth == "other" and not r.result.auto_reply]
    print(
        f"  corpus requests routed breach: {sum(r.result.route == 'breach' for r in asks)} of "
        f"{len(asks)} ({Counter(r.truth for r in asks if r.result.route == 'breach')}); "
        f"ordinary mail routed breach: {sum(r.result.route == 'breach' for r in plain)} of "
        f"{len(plain)}"
    )
    times = [r.seconds * 1000 for r in (*peer, *dev, *heldout)]
    median = statistics.median(times)
    print(
        f"\n  recognition time over {len(times)} mails: median {median:.2f} ms (< {MEDIAN_MS} ms) "
        f"{_mark(median < MEDIAN_MS)}, max {max(times):.1f} ms"
    )
    ok &= median < MEDIAN_MS
    counts = Counter(r.result.reason for r in (*peer, *dev, *heldout))
    print("  reasons: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    if not args.no_sizes:
        sizes()
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

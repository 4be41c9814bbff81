"""The labelled corpus: no request lost, accuracy floors; real-world mail never crashes.

Timing (median per mail, import plus first classification) is measured by
benchmarks/classify.py, not asserted here."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from bot.classify import classify
from bot.mail.parse import parse_message

ROOT = Path(__file__).resolve().parents[3]
REALMAIL = ROOT.parent / "shared" / "realmail" / "imap_tools"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "classify_bench", ROOT / "benchmarks" / "classify.py"
    )
    if spec is None or spec.loader is None:
        raise RuntimeError("benchmarks/classify.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _benchmark()


def test_no_request_is_lost_on_either_half(bench: ModuleType) -> None:
    """The safety target: a true request never comes out as plain `other` without triage."""
    for split in ("dev", "heldout"):
        outcomes = bench.run([m for m in bench.load_corpus() if m.split == split])
        assert len(outcomes) >= 125
        assert bench.request_as_other(outcomes) == [], split


def test_development_half_meets_the_accuracy_and_triage_targets(bench: ModuleType) -> None:
    outcomes = bench.run([m for m in bench.load_corpus() if m.split == "dev"])
    assert bench.accuracy(outcomes) >= 0.95
    assert bench.triage_share(outcomes) < 0.10


def test_held_out_half_meets_the_accuracy_and_triage_targets(bench: ModuleType) -> None:
    """The held-out half against the targets (accuracy >= 95%, triage < 10%): heldout5 (200
    mails by a writer who never saw the classifier, scored once on 2026-11-25: accuracy 0.980,
    triage 7.0%) and heldout6 (40 ordinary mails of a secretariat's day, scored once on
    2026-12-04). Triage is route review: 6.2% of the 240."""
    outcomes = bench.run([m for m in bench.load_corpus() if m.split == "heldout"])
    assert bench.accuracy(outcomes) >= 0.95
    assert bench.triage_share(outcomes) < 0.10


def test_corpus_shape(bench: ModuleType) -> None:
    mails = bench.load_corpus()
    assert len(mails) >= 250
    assert sum(m.category == "other" for m in mails) >= 60
    share_nl = sum(m.language == "nl" for m in mails) / len(mails)
    assert 0.6 <= share_nl <= 0.8


@pytest.mark.skipif(not REALMAIL.is_dir(), reason="shared real-mail samples not present")
def test_real_world_mail_never_crashes() -> None:
    for path in sorted(REALMAIL.glob("*.eml")):
        mail = parse_message(path.read_bytes())
        result = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
        assert result.evidence, path.name

"""The held-out half of the labelled corpus meets the targets; real-world mail never crashes."""

import importlib.util
import statistics
import subprocess
import sys
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


@pytest.mark.parametrize("split", ["heldout", "dev"])
def test_corpus_half_meets_targets(bench: ModuleType, split: str) -> None:
    mails = [m for m in bench.load_corpus() if m.split == split]
    outcomes = bench.run(mails)
    assert len(outcomes) >= 125
    assert bench.request_as_other(outcomes) == []
    assert bench.accuracy(outcomes) >= 0.95
    assert bench.triage_share(outcomes) < 0.10
    assert statistics.median(o.seconds for o in outcomes) < 0.005


def test_corpus_shape(bench: ModuleType) -> None:
    mails = bench.load_corpus()
    assert len(mails) >= 250
    assert sum(m.category == "other" for m in mails) >= 60
    share_nl = sum(m.language == "nl" for m in mails) / len(mails)
    assert 0.6 <= share_nl <= 0.8


def test_import_and_first_classification_under_a_second() -> None:
    code = (
        "import time; t = time.perf_counter(); from bot.classify import classify; "
        "classify(text='verwijder mij'); print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert float(out.stdout) < 1.0


@pytest.mark.skipif(not REALMAIL.is_dir(), reason="shared real-mail samples not present")
def test_real_world_mail_never_crashes() -> None:
    for path in sorted(REALMAIL.glob("*.eml")):
        mail = parse_message(path.read_bytes())
        result = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
        assert result.evidence, path.name

"""The learned component: shipped, offline, explainable; the corpus builder's file rules."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.classify import classify
from bot.classify.model import Model, features, load_model, stem

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "bot" / "classify" / "model.json"


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{path} not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_model_file_ships_small_and_loads() -> None:
    """Under 1 MB in the repository (about 630 kB from 1,202 development mails)."""
    assert MODEL.stat().st_size < 1_000_000
    model = load_model()
    assert model.categories[-1] == "other"
    assert len(model.weights) > 1000


def test_a_model_file_whose_weights_do_not_fit_its_categories_is_refused_at_load() -> None:
    """Weights are scaled on first use; their shape is still checked when the file loads."""
    good = {"categories": ["access", "other"], "bias": [1, 2], "scale": 100}
    assert Model.from_json({**good, "weights": {"inzage": [150, -50]}}).weights["inzage"] == (
        1.5,
        -0.5,
    )
    with pytest.raises(ValueError, match="2 weights per feature"):
        Model.from_json({**good, "weights": {"inzage": [1, 2], "wis": [1, 2, 3]}})
    with pytest.raises(ValueError, match="2 weights per feature"):
        Model.from_json({**good, "bias": [1], "weights": {}})


def test_stems_and_features_are_readable() -> None:
    assert stem("verwijderen") == stem("verwijdert") == stem("verwijderd")
    found = features(["inzageverzoek"], ["ik wil niet gebeld worden , graag"])
    assert found["s:" + stem("inzageverzoek")] == "inzageverzoek"
    assert found[stem("wil") + " " + stem("niet")] == "wil niet"
    assert found["!" + stem("gebeld")] == "... gebeld"


def test_request_without_a_lexicon_phrase_carries_learned_evidence() -> None:
    result = classify(
        text="Ik heb drie keer telefonisch contact gehad met jullie adviseur en volgens mij "
        "werden die gesprekken opgenomen. Mag ik de opnames hebben?"
    )
    assert result.category != "other" or result.needs_triage
    assert any(e.endswith("(learned)") for e in result.evidence)


def test_every_result_names_its_evidence() -> None:
    for text in ("", "ok", "Zie bijlage.", "Graag mijn gegevens verwijderen."):
        assert classify(text=text).evidence


def test_corpus_split_and_also_come_from_the_source_line(tmp_path: Path) -> None:
    corpus = _module("make_corpus_test", ROOT / "tests" / "corpus" / "make_corpus.py")
    assert corpus.split_of(Path("dev7.txt")) == "dev"
    assert corpus.split_of(Path("heldout3.txt")) == "heldout"
    with pytest.raises(ValueError):
        corpus.split_of(Path("extra.txt"))
    source = tmp_path / "dev9.txt"
    source.write_text(
        "### x1 | erasure | access | nl |\nSubject: a\nFrom: a@b.nl\n\nWeg ermee.\n"
        "### x2 | complaint | access, erasure | nl |\nSubject: b\nFrom: b@b.nl\n\nBoos.\n",
        encoding="utf-8",
    )
    first, second = corpus._parse(source, "dev")
    assert first.also == ["access"]
    assert second.also == ["access", "erasure"]


@pytest.mark.slow
def test_cross_validated_no_request_is_lost() -> None:
    train = _module("train_test", ROOT / "tests" / "corpus" / "train.py")
    data = train.examples()
    scored = train.cross_validate(data, [train.FUSION])[train.FUSION]
    figures = train._figures(scored)
    assert figures["leaked"] == 0
    assert figures["accuracy"] >= 0.93

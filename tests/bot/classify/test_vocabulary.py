"""The vocabulary's cheap pre-test: a phrase is only tried when its literal words occur."""

import pytest

from bot.classify.scoring import _matches
from bot.classify.vocabulary import compile_pattern, load_vocabulary, required_literals
from tests.bot.classify.test_corpus import _benchmark


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("subject access request", (("subject",), ("access",), ("request",))),
        pytest.param("withdraw* (my |the )?consent", (("withdraw",),), id="wildcard-optional"),
        pytest.param(
            "(delete|erase) ~ mijn (gegevens|data)",
            (("delete", "erase"), ("mijn",), ("gegevens", "data")),
            id="groups-and-gap",
        ),
        pytest.param("(csv|json)-? ?(bestand|file)", (), id="group-with-suffix"),
        pytest.param("bijgaand|hierbij de", (), id="top-level-alternation"),
        pytest.param("(direct ?marketing|reclame)", (), id="optional-inside-group"),
        pytest.param("art. 15", (("15",),), id="dot-is-not-literal"),
        pytest.param(
            "(verwijder*|wis) (het|de) ((oude )?dossier)",
            (("verwijder", "wis"), ("het", "de")),
            id="nested-group",
        ),
    ],
)
def test_required_literals(source: str, expected: tuple[tuple[str, ...], ...]) -> None:
    assert required_literals(source) == expected


def test_the_pre_test_and_the_narrowed_searches_find_what_full_searches_find() -> None:
    """Over every corpus mail: no phrase regex finds something while one of its required
    texts is absent, the needle index offers every phrase that matches, and the search kept
    to where a phrase can start finds what `finditer` finds."""
    vocab = load_vocabulary()
    bench = _benchmark()
    texts = {t for phrase in vocab.phrases for needle in phrase.needles for t in needle}
    checked = 0
    for mail in bench.load_corpus():
        text = (mail.subject + "\n" + mail.text).lower()
        present = vocab.present(text)
        # the index finds exactly the texts a plain substring test finds
        assert present == {t for t in texts if t in text}
        offered = set(vocab.index.phrases(present))
        for number, phrase in enumerate(vocab.phrases):
            if phrase.regex.search(text):
                checked += 1
                assert all(not needle.isdisjoint(present) for needle in phrase.needles), (
                    phrase.source
                )
                assert number in offered, phrase.source
                # searching only where the phrase can start finds what a search of the whole
                # text finds
                spans = [m.span() for m in _matches(phrase, text)]
                assert spans == [m.span() for m in phrase.regex.finditer(text)], phrase.source
    assert checked > 1000


@pytest.mark.parametrize(
    ("source", "text", "found"),
    [
        pytest.param("verwijder*", "graag verwijderen", True, id="any-ending"),
        pytest.param("*gegevens", "mijn privegegevens", True, id="compound"),
        pytest.param("*gegevens", "gegevens", True, id="plain-word"),
        pytest.param("(mijn|de) *gegevens", "de klantgegevens", True, id="in-a-group"),
        pytest.param("*gegevens", "gegevensbeheer", False, id="whole-word-end"),
    ],
)
def test_pattern_wildcards(source: str, text: str, found: bool) -> None:
    assert bool(compile_pattern(source).search(text)) is found


def test_every_shipped_phrase_compiles() -> None:
    """Patterns compile on first use; a broken one must still fail here, not in a mail."""
    phrases = load_vocabulary().phrases
    assert len(phrases) > 500
    for phrase in phrases:
        assert phrase.regex.pattern.startswith(r"(?<![\w-])"), phrase.source

"""Routes: a case needs evidence of a request, review is for what might be one, ordinary mail
is left alone; recognition reads a bounded amount of text in a bounded time."""

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bot.classify import classify
from bot.classify.budget import MAX_TEXT
from bot.classify.scoring import Hit, drop_contained, keep_heaviest
from bot.mail.parse import parse_message
from tests.bot.classify.test_corpus import _benchmark

ROOT = Path(__file__).resolve().parents[3]
PEERMAIL = ROOT.parent / "shared" / "peermail"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _benchmark()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Hello,\n\nPlease find the attachment.\n\nRegards,\nJohn", id="attachment"),
        pytest.param("To unsubscribe click here", id="unsubscribe-footer"),
        pytest.param(
            "Our spring newsletter is out: five tips for a better pension, our new office in "
            "Zwolle and an interview with our director.\n\nUnsubscribe",
            id="unsubscribe-link-label",
        ),
        pytest.param(
            "Wil je deze nieuwsbrief niet meer ontvangen? Klik hier om je af te melden.",
            id="afmelden-footer",
        ),
        pytest.param("If you no longer wish to receive these emails, click here.", id="if-you"),
        pytest.param("Zie bijlage.", id="zie-bijlage"),
        pytest.param(
            "Kunt u de gegevens van onze nieuwe medewerker verwerken in het portaal?",
            id="gegevens-everyday",
        ),
        pytest.param("De dubbele afspraak in de agenda mag je verwijderen.", id="verwijderen"),
    ],
)
def test_ordinary_mail_is_ignored(text: str) -> None:
    result = classify(text=text)
    assert result.route == "ignore", result
    assert result.category == "other" and not result.needs_triage


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("unsubscribe", "consent_withdrawal", id="one-word"),
        pytest.param("Hi,\n\nunsubscribe\n\nThanks", "consent_withdrawal", id="short-note"),
        pytest.param("Ik wil de nieuwsbrief niet meer ontvangen.", "consent_withdrawal", id="nl"),
        pytest.param("I no longer wish to receive your emails.", "consent_withdrawal", id="en"),
        pytest.param("Please delete all personal data you hold about me.", "erasure", id="erase"),
    ],
)
def test_requests_open_a_case(text: str, kind: str) -> None:
    result = classify(text=text)
    assert (result.route, result.category) == ("case", kind), result
    assert not result.needs_triage


def test_a_request_phrase_in_its_everyday_sense_about_own_data_goes_to_review() -> None:
    result = classify(text="Ik wil mijn adres aanpassen voor de factuur.")
    assert result.route == "review" and result.needs_triage
    assert result.reason


def _peermail() -> Iterator[tuple[str, bytes]]:
    labels = json.loads((PEERMAIL / "labels.json").read_text(encoding="utf-8"))
    for name, label in sorted(labels.items()):
        if label == "ordinary":
            yield name, (PEERMAIL / name).read_bytes()


@pytest.mark.skipif(not PEERMAIL.is_dir(), reason="shared peermail samples not present")
def test_ordinary_mail_of_other_projects_rarely_reaches_a_person() -> None:
    """814 ordinary mails from eight mail projects' test sets: at most 2% case, 5% review."""
    routes = []
    for _, raw in _peermail():
        mail = parse_message(raw)
        routes.append(classify(text=mail.text, subject=mail.subject, headers=mail.headers).route)
    assert len(routes) >= 800
    assert routes.count("case") / len(routes) <= 0.02
    assert routes.count("review") / len(routes) <= 0.05


def test_every_request_in_the_corpus_reaches_case_or_review(bench: ModuleType) -> None:
    """No request is ignored; review stays small (not a bin) and ordinary mail stays out."""
    outcomes = bench.run(bench.load_corpus())
    requests = [o for o in outcomes if o.mail.category != "other"]
    assert [o.mail.file for o in requests if o.result.route == "ignore"] == []
    for split in ("dev", "heldout"):
        part = [o for o in requests if o.mail.split == split]
        right = sum(o.result.route == "case" and o.result.category == o.mail.category for o in part)
        # a data subject's complaint about a breach of their data goes to the breach track
        breach = [o for o in part if o.result.route == "breach"]
        assert {o.mail.category for o in breach} <= {"complaint"}, split
        assert (right + len(breach)) / len(part) >= 0.95, split
        assert sum(o.result.route == "review" for o in part) / len(part) <= 0.05, split
    ordinary = [o for o in outcomes if o.mail.category == "other" and not o.result.auto_reply]
    assert sum(o.result.route == "case" for o in ordinary) / len(ordinary) <= 0.02
    for o in outcomes:
        # the fields agree: review is exactly triage, an ignored mail is `other`
        assert o.result.needs_triage == (o.result.route == "review"), o.mail.file
        assert o.result.route != "breach" or o.mail.category in {"complaint", "other"}
        assert o.result.route != "ignore" or o.result.category == "other", o.mail.file


def test_the_secretariat_day_is_mostly_left_alone(bench: ModuleType) -> None:
    """dev10 and heldout6: appointments, invoices, HR mail, everyday "gegevens" (heldout6,
    scored once: no case, 4 of 40 to review)."""
    outcomes = bench.run([m for m in bench.load_corpus() if m.source in ("dev10", "heldout6")])
    assert len(outcomes) == 100
    assert not [o.mail.file for o in outcomes if o.result.route == "case"]
    assert sum(o.result.route == "review" for o in outcomes) <= 8


def test_machine_mail_is_ignored() -> None:
    result = classify(text="Ik ben afwezig.", headers={"Auto-Submitted": "auto-replied"})
    assert (result.route, result.auto_reply) == ("ignore", True)


def test_a_spent_budget_sends_the_mail_to_review() -> None:
    ticks = itertools.count()
    result = classify(
        text="Ik wil graag inzage in mijn persoonsgegevens.",
        budget_s=2.0,
        clock=lambda: float(next(ticks)),  # one second per reading of the clock
    )
    assert (result.route, result.reason) == ("review", "time budget exceeded")
    assert result.needs_triage


def test_only_the_first_64_kb_of_the_new_text_is_read() -> None:
    filler = "Over de pensioenregeling had ik nog een vraag. " * (MAX_TEXT // 40)
    ask = "\n\nIk wil dat u al mijn persoonsgegevens verwijdert."
    assert classify(text=ask + "\n\n" + filler).category == "erasure"
    late = classify(text=filler + ask)
    assert late.category != "erasure" and "erasure" not in late.also


def test_a_one_megabyte_request_returns() -> None:
    text = "Ik wil graag inzage in mijn persoonsgegevens.\n\n" + "Graag inzage. " * 75_000
    assert len(text) > 1_000_000
    result = classify(text=text)
    assert result.route in ("case", "review")


class _Counted(Hit):
    """A find that counts how often its position is read."""

    reads = 0

    def __getattribute__(self, name: str) -> object:
        if name in ("start", "end"):
            _Counted.reads += 1
        return super().__getattribute__(name)


def _hits(n: int) -> list[Hit]:
    """n disjoint finds of two kinds: all are kept, so a pairwise filter compares every pair."""
    found: list[Hit] = []
    for i in range(n):
        category = "erasure" if i % 2 else "access"
        found.append(_Counted(category, "medium", "x", 1.0, False, True, False, 4 * i, 4 * i + 2))
    return found


def test_overlap_filtering_reads_each_find_a_bounded_number_of_times() -> None:
    """A pairwise filter reads positions about n^2 times (10 million for these 2,000 finds);
    sorting, a binary search per find and one sweep read them 16 times each (32,000)."""
    n = 2_000
    hits = _hits(n)
    _Counted.reads = 0
    kept = drop_contained(keep_heaviest(hits))
    assert len(kept) == n
    assert _Counted.reads <= 40 * n


def _naive(hits: list[Hit]) -> list[Hit]:
    """The rule stated plainly: per category the heaviest non-overlapping finds, then none
    inside a longer find of another category."""
    kept: list[Hit] = []
    for category in dict.fromkeys(h.category for h in hits):
        chosen: list[Hit] = []
        group = [h for h in hits if h.category == category]
        for hit in sorted(group, key=lambda h: (-h.weight, h.start - h.end)):
            if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
                chosen.append(hit)
        kept.extend(chosen)
    return [
        h
        for h in kept
        if not any(
            g.category != h.category
            and g.start <= h.start
            and h.end <= g.end
            and g.end - g.start > h.end - h.start
            for g in kept
        )
    ]


@pytest.mark.parametrize("seed", range(20))
def test_overlap_filtering_keeps_what_the_plain_rule_keeps(seed: int) -> None:
    rng = random.Random(seed)
    hits = []
    for _ in range(300):
        start = rng.randrange(200)
        category = rng.choice(["access", "erasure", "other"])
        weight = rng.choice([0.35, 1.0, 2.0])
        end = start + rng.randrange(1, 12)
        hits.append(Hit(category, "medium", "x", weight, False, True, False, start, end))
    assert drop_contained(keep_heaviest(hits)) == _naive(hits)


def test_a_mail_whose_words_do_not_tell_takes_the_language_of_its_headers() -> None:
    from bot.classify.language import detect_language

    assert detect_language(["AVG", "art.", "15"]) == "nl"  # no words, no hint: Dutch
    assert detect_language(["AVG", "art.", "15"], hint="en") == "en"
    dutch = "ik wil graag weten welke gegevens u van mij heeft".split()
    assert detect_language(dutch, hint="en") == "nl"  # the words decide when they can
    found = classify(text="GDPR art. 15 - J. Jansen", language_hint="en")
    assert found.language == "en"


BREACH_NOTICE_NL = (
    "Geachte heer/mevrouw,\n\nHierbij melden wij een datalek. Door een fout in ons "
    "salarissysteem zijn gisteren de loonstroken van twaalf medewerkers van uw klant naar de "
    "verkeerde ontvanger gestuurd. Wij hebben de ontvanger gevraagd de mail te verwijderen.\n\n"
    "Met vriendelijke groet,\nSalarisadministratie Noord BV"
)
BREACH_NOTICE_EN = (
    "Dear secretariat,\n\nWe are writing to notify you of a personal data breach. A laptop "
    "with client files was stolen from our consultant's car last night; the disk was not "
    "encrypted. We will send more details tomorrow.\n\nKind regards,\nIT Partners"
)


@pytest.mark.parametrize("text", [BREACH_NOTICE_NL, BREACH_NOTICE_EN])
def test_a_breach_notice_goes_to_the_breach_track_never_a_case_or_the_bin(text: str) -> None:
    found = classify(text=text, subject="Melding")
    assert (found.route, found.needs_triage) == ("breach", False), found
    assert found.evidence and found.reason == "a personal data breach notice"


def test_a_requester_whose_data_leaked_is_a_breach_to_assess() -> None:
    """A data subject's complaint about a breach of their data: the firm must assess the
    breach within 72 hours, so it goes to the breach track (docs/breaches.md)."""
    found = classify(
        text="Door jullie datalek zijn mijn gegevens bij een vreemde terechtgekomen. Ik dien "
        "hierbij een klacht in over de omgang met mijn persoonsgegevens.",
        subject="Klacht",
    )
    assert found.route == "breach"


def test_a_request_that_also_reports_a_breach_goes_to_review() -> None:
    found = classify(
        text="Na het datalek bij uw salarisverwerker wil ik dat u al mijn persoonsgegevens "
        "verwijdert. Ik verzoek u dit op grond van artikel 17 AVG te doen.",
        subject="Verwijder mijn gegevens",
    )
    assert found.route == "review" and "breach" in found.reason

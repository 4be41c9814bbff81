"""The breach route: notices in Dutch and English take it, near misses do not, and a notice is
never left as ordinary mail. The breach corpus (tests/corpus/breach) is scored here; the blind
set tests/corpus/breach_blind only by benchmarks/routes.py."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.classify import classify
from bot.classify.breach import breach_evidence
from bot.mail.parse import parse_message

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "breach"


def _routes(split: str) -> list[tuple[str, str, str]]:
    found = []
    with (CORPUS / "labels.csv").open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            if row["split"] != split:
                continue
            mail = parse_message((CORPUS / row["file"]).read_bytes())
            result = classify(text=mail.text, subject=mail.subject, headers=mail.headers)
            found.append((row["file"], row["label"], result.route))
    return found


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_the_breach_corpus(split: str) -> None:
    routed = _routes(split)
    notices = [r for r in routed if r[1] == "breach"]
    assert len(notices) >= 12
    assert [r for r in notices if r[2] != "breach"] == []
    assert [r for r in routed if r[1] != "breach" and r[2] == "breach"] == []


@pytest.mark.parametrize(
    "text",
    [
        "Hierbij melden wij een beveiligingsincident op onze fileserver.",
        "Wij melden u een inbreuk in verband met persoonsgegevens van uw deelnemers.",
        "We are writing to notify you of a personal data breach.",
        "My laptop with client files was stolen from the car last night.",
        "Ik heb de loonstroken per ongeluk naar een verkeerde klant gemaild.",
        "Our payroll system was hit by ransomware; employee data may have been copied.",
        "Mijn e-mailaccount is gehackt en in mijn mailbox staan klantgegevens.",
        "De map met deelnemersgegevens stond open voor iedereen met de link.",
        "Yesterday we received an email that was not meant for us, with a salary statement.",
    ],
)
def test_notices_take_the_breach_route(text: str) -> None:
    found = classify(text=text, subject="Melding")
    assert (found.route, found.needs_triage) == ("breach", False), found
    assert found.evidence


@pytest.mark.parametrize(
    "text",
    [
        "Kunnen we de afspraak van dinsdag verzetten?",
        "Ik ben de sleutel van de meterkast kwijt, laat u de deur open?",
        "Mijn laptop start niet meer op, kan ICT een vervangende regelen?",
        "Wij hebben u per abuis de factuur twee keer gestuurd.",
    ],
)
def test_ordinary_mail_is_not_a_breach(text: str) -> None:
    assert classify(text=text, subject="Vraag").route != "breach"
    assert breach_evidence(text) == ()


def test_breaches_in_general_go_to_review_not_to_the_track() -> None:
    found = classify(
        text="Op 12 maart organiseren wij een webinar over wat te doen bij een datalek. "
        "Aanmelden kan via onze website.",
        subject="Webinar",
    )
    assert found.route == "review" and "general" in found.reason


def test_other_words_of_a_breach_beside_personal_data_reach_a_person() -> None:
    found = classify(
        text="Er zijn gisteren persoonsgegevens van klanten ontvreemd uit de archiefkast.",
        subject="Archief",
    )
    assert found.route in {"review", "breach"}


@pytest.mark.parametrize(
    "text",
    [
        "Bij de verhuizing is een doos met personeelsdossiers niet meer teruggevonden.",
        "Het pakket met persoonsgegevens van deelnemers is onderweg zoek en niet terug te vinden.",
        "Part of the shipment with personal data could not be found after sorting.",
    ],
)
def test_lost_papers_with_personal_data_are_never_left_as_ordinary_mail(text: str) -> None:
    """Documents lost in transit or a move are a breach even when no device is named."""
    found = classify(text=text, subject="Melding")
    assert found.route in {"review", "breach"}, found


def test_machine_mail_about_a_breach_stays_machine_mail() -> None:
    found = classify(
        text="Wij hebben een datalek ontdekt.",
        headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
    )
    assert (found.route, found.auto_reply) == ("ignore", True)

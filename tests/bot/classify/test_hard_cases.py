"""The named hard cases, one by one."""

import pytest

from bot.classify import CATEGORIES, classify
from bot.classify.engine import Fusion, classify_prepared, prepare
from bot.classify.model import Model

NL_DISCLAIMER = (
    "Dit e-mailbericht is uitsluitend bestemd voor de geadresseerde(n). Indien u dit bericht"
    " onterecht ontvangt, verzoeken wij u het te verwijderen. Lees in onze privacyverklaring"
    " hoe u uw gegevens kunt inzien of laten verwijderen."
)
EN_DISCLAIMER = (
    "This e-mail and any attachments are confidential. If you are not the intended recipient,"
    " please delete it. Our privacy notice explains your right to access and erase your data."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("kunt u mij alles sturen wat u over mij heeft", "access", id="alles-sturen"),
        pytest.param(
            "mijn achternaam staat verkeerd in het rapport", "correction", id="achternaam"
        ),
        pytest.param("ik wil niet meer in jullie bestand", "erasure", id="niet-in-bestand"),
        pytest.param("Ik wil dat jullie mijn gegevns verwijdern.", "erasure", id="typos"),
        pytest.param(
            "Kunt u mijn geboortedatum corrigeren? Die klopt niet.",
            "correction",
            id="no-diacritics",
        ),
        pytest.param(
            "hoi, wat hebben jullie allemaal van mij opgeslagen? mvg Kim", "access", id="informal"
        ),
        pytest.param("verwijder mij", "erasure", id="one-liner-nl"),
        pytest.param("unsubscribe", "consent_withdrawal", id="one-liner-en"),
        pytest.param("Hi, graag delete my data asap. Thanks!", "erasure", id="mixed-nl-en"),
        pytest.param("Graag afmelden voor de nieuwsbrief.", "consent_withdrawal", id="nieuwsbrief"),
        pytest.param(
            "Ik maak bezwaar tegen het gebruik van mijn gegevens voor direct marketing.",
            "objection",
            id="objection",
        ),
        pytest.param(
            "Zolang het geschil loopt wil ik dat u mijn gegevens niet gebruikt. "
            "Niet verwijderen, wel bewaren.",
            "restriction",
            id="restriction",
        ),
        pytest.param(
            "Kunnen jullie mijn gegevens in een csv-bestand overdragen aan mijn nieuwe adviseur?",
            "portability",
            id="portability",
        ),
        pytest.param(
            "I withdraw my consent for the use of my photo.",
            "consent_withdrawal",
            id="withdraw-consent",
        ),
    ],
)
def test_request_phrases(text: str, expected: str) -> None:
    result = classify(text=text)
    assert result.category == expected
    assert result.evidence


def test_long_angry_mail_is_a_complaint() -> None:
    text = (
        "Ik ben het helemaal zat. In januari heb ik gevraagd welke gegevens jullie van mij "
        "hebben. Geen antwoord. In februari nog een keer gemaild. Weer niets. Dit is werkelijk "
        "onacceptabel, de termijn van een maand is allang verstreken. Ik dien een klacht in bij "
        "de Autoriteit Persoonsgegevens.\n\n" * 3
    )
    result = classify(text=text)
    assert result.category == "complaint"
    assert not result.needs_triage


def test_negation_and_contrast_make_it_access() -> None:
    result = classify(
        text="ik wil mijn gegevens niet laten verwijderen, alleen weten welke u heeft"
    )
    assert result.category == "access"
    assert "erasure" not in result.also


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("kunt u de oude offerte verwijderen", id="offerte"),
        pytest.param("Could you please delete the old quote and send a new one?", id="quote"),
        pytest.param("Kunt u ons adres op de facturen aanpassen?", id="factuuradres-ons"),
    ],
)
def test_everyday_sense_is_other(text: str) -> None:
    result = classify(text=text)
    assert result.category == "other"
    assert not result.needs_triage


def test_personal_everyday_sense_is_torn_and_goes_to_triage() -> None:
    result = classify(text="ik wil mijn adres aanpassen voor de factuur")
    assert result.category == "other"
    assert result.needs_triage
    assert result.also == ("correction",)


@pytest.mark.parametrize("disclaimer", [NL_DISCLAIMER, EN_DISCLAIMER], ids=["nl", "en"])
def test_disclaimer_only_is_other(disclaimer: str) -> None:
    result = classify(text=f"Zie bijlage.\n\nMet vriendelijke groet,\nPiet\n\n{disclaimer}")
    assert result.category == "other"
    assert not result.needs_triage


def test_quoted_history_only_is_other() -> None:
    text = (
        "Dank u wel, ik heb alles ontvangen.\n\n"
        "Op ma 16 feb 2026 om 09:30 schreef Jan <jan@example.nl>:\n"
        "> Ik wil inzage in al mijn gegevens en daarna wil ik dat u alles verwijdert.\n"
    )
    result = classify(text=text, subject="Re: inzageverzoek")
    assert result.category == "other"
    assert not result.needs_triage


def test_forward_without_comment_counts_the_forwarded_request() -> None:
    text = (
        "---------- Forwarded message ---------\nVan: Piet <p@x.nl>\nDate: ma 2 mrt 2026\n"
        "Subject: gegevens\nTo: <hr@x.nl>\n\nIk wil dat u al mijn gegevens verwijdert.\n"
    )
    assert classify(text=text, subject="Fwd: gegevens").category == "erasure"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Auto-Submitted": "auto-replied", "From": "a@b.nl"}, id="auto-replied"),
        pytest.param({"auto-submitted": "auto-generated", "From": "a@b.nl"}, id="lower-case"),
        pytest.param({"From": "MAILER-DAEMON@mx.example.nl"}, id="bounce-sender"),
    ],
)
def test_auto_replies_by_headers(headers: dict[str, str]) -> None:
    result = classify(
        text="Ik ben afwezig. Voor het verwijderen van uw gegevens: mail privacy@b.nl.",
        subject="Automatisch antwoord: verwijderverzoek",
        headers=headers,
    )
    assert (result.category, result.auto_reply, result.needs_triage) == ("other", True, False)
    assert result.evidence


@pytest.mark.parametrize(
    ("text", "language"),
    [
        pytest.param("Kunt u mij laten weten welke gegevens u van mij heeft?", "nl", id="nl"),
        pytest.param("Could you tell me which data you hold about me?", "en", id="en"),
        pytest.param("ok", "nl", id="unsure-is-dutch"),
        pytest.param(
            "Sorry my Dutch is not good. I want inzage in my data please.",
            "en",
            id="mixed-mostly-en",
        ),
    ],
)
def test_language(text: str, language: str) -> None:
    assert classify(text=text).language == language


def test_request_signal_never_plain_other() -> None:
    result = classify(
        text="Wij willen dat u onze gegevens uit uw systeem verwijdert, ook bij de offerte."
    )
    assert result.category != "other" or result.needs_triage


def test_threshold_sends_unsure_results_to_triage() -> None:
    assert classify(text="verwijder mij", threshold=0.999).needs_triage


def test_html_body_is_read() -> None:
    result = classify(text="<html><body><p>Graag <b>al mijn gegevens verwijderen</b>.</p>")
    assert result.category == "erasure"


def test_to_json_has_exactly_the_contract_shape() -> None:
    data = classify(text="Ik wil inzage en daarna alles verwijderen.").to_json()
    assert list(data) == [
        "category",
        "confidence",
        "also",
        "language",
        "auto_reply",
        "needs_triage",
        "evidence",
        "route",
        "reason",
    ]
    assert data["category"] in CATEGORIES
    assert data["route"] in ("case", "review", "ignore")
    assert isinstance(data["also"], list) and isinstance(data["evidence"], list)
    assert isinstance(data["confidence"], float) and 0.0 <= data["confidence"] <= 1.0


def test_no_request_is_other_with_evidence() -> None:
    result = classify(text="Kan de afspraak van dinsdag verplaatst worden?")
    assert result.category == "other"
    assert not result.needs_triage
    assert result.evidence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Ik wil voor mezelf (niet namens de werkgever) graag opvragen welke "
            "persoonsgegevens u van mij verwerkt.",
            "access",
            id="negation-inside-brackets",
        ),
        pytest.param(
            "Could you tell me what personal information your company holds about me?",
            "access",
            id="holds",
        ),
        pytest.param("Hoe komen jullie aan mijn telefoonnummer?", "access", id="source-nl"),
        pytest.param("Where did you get my phone number from?", "access", id="source-en"),
        pytest.param("Wis alles wat u van mij heeft.", "erasure", id="wis-alles"),
        pytest.param(
            "Ik wil graag dat u al mijn gegevens uit uw systeem haalt.", "erasure", id="haalt"
        ),
        pytest.param("Please get rid of my data.", "erasure", id="get-rid-of"),
        pytest.param("Bel mij niet meer.", "objection", id="bel-niet-meer"),
        pytest.param("Stop calling me.", "objection", id="stop-calling"),
        pytest.param("Stop met mailen aub.", "consent_withdrawal", id="stop-mailen"),
        pytest.param("I no longer consent to this.", "consent_withdrawal", id="no-consent"),
        pytest.param("Waarom reageert niemand op mijn mails?", "complaint", id="niemand"),
    ],
)
def test_plain_phrasings(text: str, expected: str) -> None:
    assert classify(text=text).category == expected


def test_business_word_in_the_sentence_before_does_not_hide_a_personal_request() -> None:
    text = (
        "Ik heb destijds toestemming gegeven om mijn gegevens te delen met de verzekeraar voor"
        " een offerte. Die toestemming wil ik intrekken, ik heb geen interesse meer."
    )
    assert classify(text=text).category == "consent_withdrawal"


def test_business_word_in_the_sentence_before_still_dampens_an_impersonal_one() -> None:
    result = classify(text="Bijgaand de nieuwe offerte. Kunt u de oude verwijderen?")
    assert (result.category, result.needs_triage) == ("other", False)


def test_dampened_phrase_in_a_persons_own_sentence_goes_to_triage() -> None:
    result = classify(text="Voor die afspraak belt u mij steeds, ik wil niet meer benaderd worden.")
    assert result.category == "other"
    assert result.needs_triage
    assert result.also == ("objection",)


def test_format_word_alone_is_no_portability_request() -> None:
    result = classify(text="Bent u nog steeds bezig met handmatige berekeningen in Excel?")
    assert result.category == "other"


def test_a_complaint_about_fees_is_not_a_data_protection_complaint() -> None:
    """No word about personal data: an everyday complaint, never a confident `complaint`."""
    text = (
        "Ik wil een klacht indienen over de snelheid waarmee mijn aanvraag wordt behandeld. "
        "Op 3 februari heb ik alle stukken aangeleverd en ik heb nog steeds niets gehoord."
    )
    result = classify(text=text)
    assert result.category != "complaint" or result.needs_triage
    assert any("everyday sense" in e for e in result.evidence)


def test_a_complaint_about_personal_data_stays_a_complaint() -> None:
    text = (
        "Ik wil een klacht indienen: mijn adviesrapport met mijn salaris en BSN is naar een "
        "collega van mij gestuurd."
    )
    result = classify(text=text)
    assert result.category == "complaint"
    assert not any("everyday sense" in e for e in result.evidence)


def test_request_in_one_sentence_of_a_long_pension_mail_goes_to_a_human() -> None:
    """Even when the model reads a long mail about pensions as ordinary, a strong request
    phrase in the writer's own words sends it to triage with the request as the guess."""
    text = (
        "Ik heb een paar vragen. Mijn vrouw en ik willen misschien naar Spanje verhuizen, wat "
        "betekent dat voor mijn AOW en het pensioen van het ABP? Moet ik dan in Spanje belasting "
        "betalen? Vorig jaar heeft u een lijfrente voor mij omgezet, maar ik kan het contract "
        "niet meer vinden. En nog iets: kunt u mij een overzicht sturen van alle gegevens die "
        "jullie van mij opgeslagen hebben? Verder bedankt voor de prettige begeleiding."
    )
    result = classify(text=text)
    assert result.category == "access" or (result.needs_triage and "access" in result.also)


def test_repeating_an_unanswered_request_makes_the_mail_a_complaint() -> None:
    text = (
        "Afgelopen dinsdag vroeg ik aan de balie welke gegevens u van mij heeft. De medewerker "
        "werd onbeschoft. Ik dien hierbij een klacht in over deze behandeling en wil alsnog een "
        "kopie van mijn gegevens ontvangen."
    )
    result = classify(text=text)
    assert result.category == "complaint"
    assert "access" in result.also


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Tot dat is uitgezocht wil ik dat u mijn dossier bevriest.", id="dossier-bevriezen"
        ),
        pytest.param(
            "My marital status is wrong. In the meantime, please restrict the use of my data.",
            id="restrict-the-use",
        ),
    ],
)
def test_restriction_in_plain_words(text: str) -> None:
    assert classify(text=text).category == "restriction"


def test_a_strong_phrase_outvotes_a_model_that_is_sure_of_other() -> None:
    """The safety net on its own: with a model that calls everything ordinary mail, a strong
    request phrase in the writer's own words still sends the mail to a human."""
    sure_of_other = Model(
        categories=CATEGORIES,
        bias=tuple(20.0 if c == "other" else 0.0 for c in CATEGORIES),
        weights={},
    )
    mail = prepare(
        "Verder nog iets: kunt u mij een overzicht sturen van alle gegevens die jullie van mij "
        "opgeslagen hebben? " + "Ik heb ook een vraag over mijn pensioen en de AOW. " * 8
    )
    result = classify_prepared(mail, model=sure_of_other)
    assert result.category == "other"
    assert result.needs_triage
    assert result.also == ("access",)
    without_net = classify_prepared(mail, model=sure_of_other, fusion=Fusion(strong_net=False))
    assert not without_net.needs_triage

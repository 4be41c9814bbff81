"""split_reply: only what the sender wrote now is new."""

import pytest

from bot.mail.quoting import ReplyParts, split_reply

NL_DISCLAIMER = (
    "Dit e-mailbericht is uitsluitend bestemd voor de geadresseerde. Indien u dit bericht"
    " onterecht ontvangt, verzoeken wij u het te verwijderen en de afzender te informeren."
)
EN_DISCLAIMER = (
    "This e-mail and any attachments are confidential. If you are not the intended recipient,"
    " please delete it."
)


def test_plain_text_is_all_new() -> None:
    assert split_reply("Kunt u mijn gegevens verwijderen?") == ReplyParts(
        new="Kunt u mijn gegevens verwijderen?", quoted="", signature="", disclaimer=""
    )


@pytest.mark.parametrize(
    "history",
    [
        pytest.param("> Ik wil inzage.\n> Groet, Jan", id="angle-quotes"),
        pytest.param(
            "Op di 3 mrt 2026 om 10:12 schreef Jan Jansen <\njan@example.nl>:\n> Ik wil inzage.",
            id="op-schreef-wrapped",
        ),
        pytest.param(
            "On Mon, 9 Mar 2026 at 14:02, Jan <j@x.nl> wrote:\n> delete me", id="on-wrote"
        ),
        pytest.param(
            "Op 4 mrt. 2026, om 11:02 heeft Jan <j@x.nl> het volgende geschreven:\n\n> verwijder",
            id="apple-mail-nl",
        ),
        pytest.param(
            "Van: Jan <j@x.nl>\nVerzonden: dinsdag 10 februari 2026 09:14\nAan: info@x.nl\n"
            "Onderwerp: verwijderen\n\nVerwijder mijn gegevens.",
            id="outlook-nl",
        ),
        pytest.param(
            "________________________________\nFrom: Jan <j@x.nl>\nSent: Monday\nTo: info\n"
            "Subject: delete\n\nDelete my data.",
            id="outlook-en",
        ),
        pytest.param("-----Original Message-----\nFrom: Jan\n\nDelete my data.", id="original"),
        pytest.param(
            "----- Oorspronkelijk bericht -----\nVan: Jan\n\nVerwijder mij.", id="oorspronkelijk"
        ),
    ],
)
def test_history_is_quoted(history: str) -> None:
    parts = split_reply(f"Dank u, dat is duidelijk.\n\n{history}\n")
    assert parts.new == "Dank u, dat is duidelijk."
    assert "erwijder" in parts.quoted or "nzage" in parts.quoted or "elete" in parts.quoted


@pytest.mark.parametrize(
    "closing",
    [
        pytest.param("Met vriendelijke groet,\nJan Jansen\nAdviseur", id="mvg-full"),
        pytest.param("mvg jan", id="mvg"),
        pytest.param("-- \nJan Jansen | T 06-123", id="dash-dash"),
        pytest.param("Verzonden vanaf mijn iPhone", id="iphone-nl"),
        pytest.param("Kind regards,\nJane", id="kind-regards"),
        pytest.param("Sent from my iPhone", id="iphone-en"),
    ],
)
def test_signature_is_set_apart(closing: str) -> None:
    parts = split_reply(f"Ik wil niet meer in jullie bestand.\n\n{closing}")
    assert parts.new == "Ik wil niet meer in jullie bestand."
    assert parts.signature


def test_request_above_and_ps_below_the_closing_stay_new() -> None:
    parts = split_reply(
        "Hoi,\nKunt u mij alles sturen wat u over mij heeft?\nMet vriendelijke groet,\nJan\n\n"
        "PS: mijn oude adres mag ook uit uw systeem."
    )
    assert "alles sturen" in parts.new
    assert "PS: mijn oude adres" in parts.new
    assert parts.signature.startswith("Met vriendelijke groet")


@pytest.mark.parametrize("disclaimer", [NL_DISCLAIMER, EN_DISCLAIMER], ids=["nl", "en"])
def test_disclaimer_is_set_apart(disclaimer: str) -> None:
    parts = split_reply(f"Zie bijlage.\n\nGroet,\nPiet\n\n{disclaimer}")
    assert parts.new == "Zie bijlage."
    assert "verwijder" not in parts.new and "delete" not in parts.new
    assert parts.disclaimer.startswith(disclaimer[:20])


def test_forward_with_comment_counts_the_comment() -> None:
    parts = split_reply(
        "Hieronder een vraag van een medewerker, graag afhandelen.\n\n"
        "---------- Forwarded message ---------\nVan: Piet <p@x.nl>\nDate: ma 2 mrt 2026\n"
        "Subject: weg\nTo: <info@x.nl>\n\nVerwijder mijn gegevens.\n"
    )
    assert parts.new == "Hieronder een vraag van een medewerker, graag afhandelen."
    assert "Verwijder mijn gegevens." in parts.quoted


@pytest.mark.parametrize(
    "marker",
    [
        "---------- Forwarded message ---------",
        "-------- Doorgestuurd bericht --------",
        "Begin doorgestuurd bericht:",
    ],
    ids=["gmail", "doorgestuurd", "apple-nl"],
)
def test_forward_without_comment_counts_the_forwarded_text(marker: str) -> None:
    parts = split_reply(
        f"{marker}\nVan: Piet <p@x.nl>\nDatum: ma 2 mrt 2026\nOnderwerp: weg\nAan: <info@x.nl>\n"
        "\nIk wil niet meer in jullie bestand.\n\nGroet, Piet\n"
    )
    assert parts.new == "Ik wil niet meer in jullie bestand."
    assert parts.signature == "Groet, Piet"


def test_outlook_forward_without_comment() -> None:
    parts = split_reply(
        "From: Piet <p@x.nl>\nSent: Monday, 9 March 2026 10:00\nTo: HR\nSubject: data\n\n"
        "Please delete my data.\n"
    )
    assert parts.new == "Please delete my data."


def test_inline_reply_keeps_own_lines() -> None:
    parts = split_reply("> Wilt u uw geboortedatum bevestigen?\n14-02-1969\n> Dank u")
    assert parts.new == "14-02-1969"
    assert "geboortedatum" in parts.quoted


def test_crlf_and_empty_input() -> None:
    assert split_reply("").new == ""
    assert split_reply("Hallo\r\n\r\n> oud\r\n").new == "Hallo"


FOREIGN_HEADERS = {
    "it": "Da: Piet <p@x.nl>\nInviato: lunedì 2 marzo 2026 10:00\nA: info@x.nl\nOggetto: dati",
    "de": "Von: Piet <p@x.nl>\nGesendet: Montag, 2. März 2026 10:00\nAn: info@x.nl\nBetreff: Daten",
    "fr": "De : Piet <p@x.nl>\nEnvoyé : lundi 2 mars 2026 10:00\nÀ : info@x.nl\nObjet : données",
    "es": "De: Piet <p@x.nl>\nEnviado: lunes, 2 de marzo de 2026\nPara: info@x.nl\nAsunto: datos",
    "nl": "Van: Piet <p@x.nl>\nVerzonden: maandag 2 maart 2026\nAan: info@x.nl\nOnderwerp: data",
}


@pytest.mark.parametrize("language", sorted(FOREIGN_HEADERS))
def test_header_block_in_another_language_is_history(language: str) -> None:
    text = f"Zie hieronder.\n\n{FOREIGN_HEADERS[language]}\n\nPlease delete my data.\n"
    parts = split_reply(text)
    assert parts.new == "Zie hieronder."
    assert "Please delete my data." in parts.quoted


@pytest.mark.parametrize("language", sorted(FOREIGN_HEADERS))
def test_bare_forward_in_another_language_counts_only_the_writer_words(language: str) -> None:
    parts = split_reply(f"{FOREIGN_HEADERS[language]}\nDatum: 2 maart\n\nPlease delete my data.\n")
    assert parts.new == "Please delete my data."


@pytest.mark.parametrize(
    "marker",
    [
        "---------- Weitergeleitete Nachricht ----------",
        "-------- Message transféré --------",
        "---------- Messaggio inoltrato ----------",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
    ],
)
def test_forward_and_original_markers_in_other_languages(marker: str) -> None:
    parts = split_reply(
        f"{marker}\nVon: Piet <p@x.nl>\nDatum: 2 maart\nBetreff: Daten\n\nPlease delete my data.\n"
    )
    assert parts.new == "Please delete my data."
    assert "Betreff" not in parts.new


@pytest.mark.parametrize(
    "intro",
    [
        "Il giorno lun 2 mar 2026 alle ore 10:00 Piet <p@x.nl> ha scritto:",
        "El lun, 2 mar 2026 a las 10:00, Piet (<p@x.nl>) escribió:",
        "Em seg., 2 de mar. de 2026 às 10:00, Piet <p@x.nl> escreveu:",
        "Le lun. 2 mars 2026 à 10:00, Piet <p@x.nl> a écrit :",
    ],
)
def test_quote_intros_in_other_languages(intro: str) -> None:
    parts = split_reply(f"Zie hieronder.\n\n{intro}\n> Please delete my data.\n")
    assert parts.new == "Zie hieronder."

"""What a breach notice's sentences fill in the checklist (bot.breach_facts.extract)."""

from bot.breach_facts import extract

NOTICE = (
    "Beste privacyteam,\n\n"
    "Gisteren is per ongeluk een salarisstrook van een van uw medewerkers naar een verkeerd "
    "adres gemaild. Het gaat om naam, adres en BSN van 1 persoon. Wij hebben de ontvanger "
    "gevraagd de mail te verwijderen.\n\nMet vriendelijke groet,\nJan\n"
)


def test_the_kinds_of_data_come_from_the_sentence_that_names_most_of_them() -> None:
    """A passing "salarisstrook" must not stand for the data when a later sentence lists
    them; the notice to the people concerned quotes this item."""
    facts = extract(NOTICE)
    assert facts["data_categories"].value == "Het gaat om naam, adres en BSN van 1 persoon."


def test_the_numbers_come_from_a_count_in_digits_before_a_phrase_like_one_of() -> None:
    facts = extract(NOTICE)
    assert facts["numbers"].value == "Het gaat om naam, adres en BSN van 1 persoon."
    assert facts["occurred_at"].value.startswith("Gisteren")
    assert facts["measures"].value.startswith("Wij hebben de ontvanger gevraagd")


def test_without_a_count_in_digits_the_first_sentence_with_a_count_is_kept() -> None:
    facts = extract("Een medewerker verloor een map. Er zaten drie dossiers in.")
    assert facts["numbers"].value == "Een medewerker verloor een map."


def test_an_english_notice_lists_its_kinds_of_data() -> None:
    facts = extract(
        "Yesterday a letter about pension contributions went to the wrong address. "
        "It held the name, address, date of birth and bank account of 2 members."
    )
    assert facts["data_categories"].value.startswith("It held the name")
    assert facts["numbers"].value.startswith("It held the name")

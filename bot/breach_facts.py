"""The breach checklist and what a notice says about each item (pure).

The privacy statement asks a processor's report for five items at least (nature, number of
people and records, a contact, likely consequences, measures); the AP's notification form asks
for more (when it happened and was discovered, categories of data, special categories,
encryption, cross-border, whether the people were told). Each item is filled from the sentence
of the mail that speaks of it, found by a few plain cue words per item (Dutch and English), so
a person can see why: the stored value is the writer's own sentence (or yes/no with it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.classify.breach import EVENTS, NAMED
from bot.classify.text import normalise

ITEMS: tuple[str, ...] = (
    "nature",
    "numbers",
    "contact",
    "consequences",
    "measures",
    "occurred_at",
    "discovered_at",
    "data_categories",
    "special_categories",
    "encrypted",
    "cross_border",
    "subjects_told",
)
"""The checklist: the statement's five items, then the AP questionnaire's others."""

STATEMENT_ITEMS = ITEMS[:5]
YES_NO = frozenset({"special_categories", "encrypted", "cross_border", "subjects_told"})

LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "nature": "de aard van de inbreuk (wat is er gebeurd)",
        "numbers": "het (geschatte) aantal betrokkenen en gegevensrecords",
        "contact": "naam en contactgegevens van iemand bij wie wij meer informatie krijgen",
        "consequences": "de waarschijnlijke gevolgen voor de betrokkenen",
        "measures": "de genomen of voorgestelde maatregelen",
        "occurred_at": "wanneer de inbreuk plaatsvond (datum en tijd, of de periode)",
        "discovered_at": "wanneer u de inbreuk ontdekte",
        "data_categories": "welke soorten persoonsgegevens het betreft",
        "special_categories": "of het ook bijzondere persoonsgegevens betreft (bijvoorbeeld "
        "gezondheid) of het BSN",
        "encrypted": "of de gegevens versleuteld waren",
        "cross_border": "of betrokkenen in andere EU-landen wonen (grensoverschrijdend)",
        "subjects_told": "of de betrokkenen al zijn geïnformeerd",
    },
    "en": {
        "nature": "the nature of the breach (what happened)",
        "numbers": "the approximate number of people and records concerned",
        "contact": "name and contact details of someone who can tell us more",
        "consequences": "the likely consequences for the people concerned",
        "measures": "the measures taken or proposed",
        "occurred_at": "when the breach happened (date and time, or the period)",
        "discovered_at": "when it was discovered",
        "data_categories": "the kinds of personal data concerned",
        "special_categories": "whether special categories of data (such as health) or "
        "citizen service numbers are concerned",
        "encrypted": "whether the data was encrypted",
        "cross_border": "whether people in other EU countries are concerned (cross-border)",
        "subjects_told": "whether the people concerned have been told",
    },
}

_NEGATION = re.compile(
    r"\b(?:niet|geen|nog niet|nooit|not|no|none|never|without|zonder|unencrypted|onversleuteld)\b"
)
_DATE_WORDS = (
    r"(?:\b\d{1,2}[-/ ](?:\d{1,2}|jan\w*|feb\w*|maart|march|mar|apr\w*|mei|may|jun\w*|jul\w*|"
    r"aug\w*|sep\w*|okt\w*|oct\w*|nov\w*|dec\w*)\b|\b\d{1,2}[.:]\d{2}\b|gisteren|vannacht|"
    r"vanochtend|vanmorgen|vanmiddag|gisteravond|vanavond|eergisteren|vandaag|vorige week|"
    r"afgelopen|yesterday|last night|"
    r"this morning|today|last week|\b(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|"
    r"zondag|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|between|tussen|"
    r"van \d+ tot)"
)
_DISCOVERED = re.compile(
    r"\b(?:ontdekt\w*|ontdekten|vastgesteld|geconstateerd|bemerkt|opgemerkt|erachter|"
    r"gemeld door|melding van|discovered|became aware|noticed|detected|found out|aware of it)\b"
)

_CUES: dict[str, re.Pattern[str]] = {
    "numbers": re.compile(
        r"\b(?:\d[\d.,]*|een|een enkele|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|"
        r"twaalf|twintig|dertig|veertig|vijftig|honderd|duizend|one|two|three|four|five|six|"
        r"seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand)"
        r"(?: \S+){0,2}? (?:medewerkers?|werknemers?|deelnemers?|personen|persoon|betrokkenen?|"
        r"klanten|relaties|mensen|records|dossiers?|documenten|bestanden|brieven|enveloppen|"
        r"formulieren|adressen|people|persons?|employees?|members?|participants?|clients?|"
        r"customers?|data subjects?|individuals?|documents?|files?|letters?|forms?)\b"
    ),
    "contact": re.compile(
        r"\b(?:contact|contactpersoon|functionaris gegevensbescherming|fg|dpo|"
        r"data protection officer|voor (?:meer informatie|vragen)|for (?:more information|"
        r"questions|further information)|kunt u (?:bellen|mailen)|bereikbaar)\b"
    ),
    "consequences": re.compile(
        r"\b(?:gevolg\w*|risico\w*|fraude|identiteitsfraude|misbruik|schade|impact|"
        r"consequen\w*|risks?|fraud|identity theft|misuse|harm|damage)\b"
    ),
    "measures": re.compile(
        r"\b(?:maatregel\w*|hebben (?:wij|we) (?:\S+ ){0,6}(?:gevraagd|geblokkeerd|gereset|"
        r"gewijzigd|verwijderd|ingeschakeld|uitgezet|hersteld|gedicht|aangepast|geinformeerd)|"
        r"is (?:\S+ ){0,2}(?:geblokkeerd|gereset|gedicht|hersteld|uitgezet|uitgeschakeld)|"
        r"zijn (?:\S+ ){0,2}(?:gereset|gewijzigd|geblokkeerd)|aangifte|gevraagd (?:de|het) "
        r"\S+ te (?:verwijderen|vernietigen)|wachtwoord\w* (?:gewijzigd|gereset)|"
        r"op afstand wissen|measures?|we have (?:\S+ ){0,4}(?:asked|blocked|reset|changed|"
        r"patched|disabled|enabled|notified|informed|retrain\w*)|has been (?:patched|blocked|"
        r"reset|fixed|closed)|confirmed deletion|asked (?:the recipient|him|her|them) to delete|"
        r"changed (?:my|our|the) passwords?|wipe\w*|retrain\w*|reported (?:it )?to the police|"
        r"ingeschakeld|uitgeschakeld)\b"
    ),
    "data_categories": re.compile(
        r"\b(?:namen|naam|adres\w*|nawgegevens|naw|bsn|burgerservicenummer\w*|geboortedatum\w*|"
        r"salaris\w*|loonstro\w*|inkomens\w*|pensioen\w*|bankrekening\w*|iban|e-?mailadres\w*|"
        r"telefoonnummer\w*|polisgegevens|verzuimgegevens|gezondheid\w*|medische|paspoort\w*|"
        r"names?|address\w*|dates? of birth|salary|salaries|pension\w*|bank account\w*|"
        r"e-?mail address\w*|phone numbers?|health|medical|passport\w*|contributions?)\b"
    ),
    "special_categories": re.compile(
        r"\b(?:bijzondere (?:persoons)?gegevens|gezondheid\w*|medisch\w*|verzuim\w*|ziekte\w*|"
        r"religie|etnisch\w*|strafrechtelijk\w*|biometrisch\w*|vakbond\w*|bsn|"
        r"burgerservicenummer\w*|special categor\w*|health|medical|sick\w*|religio\w*|"
        r"ethnic\w*|criminal|biometric|trade union|citizen service number)\b"
    ),
    "encrypted": re.compile(
        r"\b(?:versleuteld|onversleuteld|encrypt\w*|unencrypted|bitlocker|filevault|"
        r"beveiligd met (?:een )?(?:wachtwoord|pincode)|pincode|pin code|password[- ]protected)\b"
    ),
    "cross_border": re.compile(
        r"\b(?:grensoverschrijdend\w*|cross-?border|buiten (?:de eu|nederland)|outside the eu|"
        r"andere (?:eu-)?lidsta\w*|other (?:eu )?member states?|andere eu-landen|"
        r"other eu countries|in (?:belgie|duitsland|belgium|germany))\b"
    ),
    "subjects_told": re.compile(
        r"\b(?:betrokkenen|werknemers|deelnemers|medewerkers|the (?:affected )?(?:people|"
        r"employees|members|participants|data subjects|individuals))(?: \S+){0,6} "
        r"(?:geinformeerd|ingelicht|op de hoogte gebracht|informed|told|notified)\b"
        r"|\b(?:geinformeerd|ingelicht|informed|told|notified) (?:\S+ ){0,3}(?:de |the )?"
        r"(?:betrokkenen|werknemers|deelnemers|medewerkers|affected|employees|members|"
        r"participants|data subjects|individuals)\b"
    ),
}


@dataclass(frozen=True)
class Fact:
    """One checklist item's value: the writer's sentence, or `yes`/`no` with it."""

    value: str
    sentence: str


_ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|drs|ir|ing|prof|bv|nr|ca|bijv|resp|tel|e\.g|i\.e|o\.a)|\b[A-Z])\.$",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    pieces = [p for p in re.split(r"(?<=[.!?])\s+|\n\s*\n|\n(?=[-*•] )", text) if p.strip()]
    joined: list[str] = []
    for piece in pieces:
        if joined and _ABBREVIATION.search(joined[-1]):
            joined[-1] += " " + piece
        else:
            joined.append(piece)
    return [" ".join(p.split())[:400] for p in joined]


def _first(sentences: list[tuple[str, str]], test: Callable[[str], object]) -> str | None:
    return next((raw for raw, plain in sentences if test(plain)), None)


def _best(sentences: list[tuple[str, str]], cue: re.Pattern[str], item: str) -> str | None:
    """The sentence that says most about `item`: for the kinds of data, the one naming the
    most of them ("naam, adres en BSN" over a passing "salarisstrook"); for the numbers, the
    first that counts in digits ("1 persoon" over "een van uw medewerkers"); else the first
    that speaks of it."""
    if item == "data_categories":
        counts = [(len(set(cue.findall(plain))), raw) for raw, plain in sentences]
        most = max((count for count, _ in counts), default=0)
        return next((raw for count, raw in counts if count == most), None) if most else None
    if item == "numbers":
        digits = _first(sentences, lambda s: any(m[:1].isdigit() for m in _counts(cue, s)))
        return digits or _first(sentences, cue.search)
    return _first(sentences, cue.search)


def _counts(cue: re.Pattern[str], plain: str) -> list[str]:
    return [match.group(0) for match in cue.finditer(plain)]


def _yes_no(item: str, plain: str) -> str:
    negated = bool(_NEGATION.search(plain))
    if item == "encrypted" and re.search(r"\b(?:onversleuteld|unencrypted)\b", plain):
        return "no"
    if item == "special_categories" and not re.search(r"\bbijzondere|special\b", plain):
        return "yes"  # a health or BSN word itself is the answer
    return "no" if negated else "yes"


def _nature(sentences: list[tuple[str, str]]) -> str | None:
    """The sentence that describes the event, else the one that names the breach."""
    events = _first(sentences, lambda s: any(p.search(s) for p in EVENTS.values()))
    return events or _first(sentences, lambda s: bool(NAMED.search(s)))


def extract(text: str) -> dict[str, Fact]:
    """What `text` (a notice or a reply, quotes set aside) says about each checklist item."""
    sentences = [(raw, normalise(raw)) for raw in _sentences(text)]
    found: dict[str, Fact] = {}
    nature = _nature(sentences)
    if nature:
        found["nature"] = Fact(nature, nature)
    discovered = _first(
        sentences, lambda s: bool(_DISCOVERED.search(s) and re.search(_DATE_WORDS, s))
    )
    if discovered:
        found["discovered_at"] = Fact(discovered, discovered)
    occurred = _first(
        sentences,
        lambda s: bool(re.search(_DATE_WORDS, s)) and not _DISCOVERED.search(s),
    )
    if occurred:
        found["occurred_at"] = Fact(occurred, occurred)
    for item, cue in _CUES.items():
        sentence = _best(sentences, cue, item)
        if sentence is None:
            continue
        if item in YES_NO:
            found[item] = Fact(_yes_no(item, normalise(sentence)), sentence)
        else:
            found[item] = Fact(sentence, sentence)
    return found


def missing(facts: Mapping[str, object]) -> list[str]:
    """The checklist items not yet known, in checklist order."""
    return [item for item in ITEMS if not facts.get(item)]

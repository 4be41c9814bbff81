"""Recognise a personal data breach notice (GDPR art. 33; "datalek") in Dutch and English.

A processor, a hired specialist or a colleague reports that personal data went where it
should not: a misdirected mail, a lost or stolen laptop or phone, a hacked account,
ransomware, data left open. Such a mail is its own track (route `breach`): never a request
case (no acknowledgement to a processor as if it were a data subject), never ordinary mail.

Two kinds of words, matched on the normalised text (lower case, accents removed):
- `NAMED`: the mail names a breach ("datalek", "beveiligingsincident", "inbreuk in verband
  met persoonsgegevens", "personal data breach", "security incident", "ransomware");
- `EVENTS`: the mail describes one (sent to the wrong person, a stolen laptop, a hacked
  mailbox, data that leaked); it counts when the mail also speaks of data or documents
  (`DATA`): "mijn telefoon is kwijt" alone is not a breach, a lost phone with client mail is.

A data subject who writes that the firm sent their data to someone else is a breach report
too: the firm must assess it within 72 hours whoever tells it (see docs/breaches.md).
"""

from __future__ import annotations

import re
from dataclasses import replace

from .result import Classification

__all__ = [
    "DATA",
    "EVENTS",
    "GENERAL",
    "HINTS",
    "NAMED",
    "PERSONAL",
    "breach_evidence",
    "breach_route",
]

_GAP = r"(?:\s+\S+){0,6}?\s+"  # up to six words between two parts of one phrase

NAMED = re.compile(
    r"\b(?:data ?lek|datalekmelding|beveiligingsincident"
    r"|(?:privacy|security)[ -]?incident|inbreuk (?:in verband met|op) (?:de )?"
    r"(?:persoonsgegevens|beveiliging|privacy)|ransomware\w*|cyberaanval\w*|cyber ?attack\w*"
    r"|(?:personal )?data breach|security breach|privacy breach|data leak"
    r"|breach notification|notification of (?:a )?breach"
    r"|(?:ongeautoriseerde|onbevoegde|onrechtmatige) (?:toegang|inzage)"
    r"|unauthori[sz]ed access|unlawful(?:ly)? access\w*)\b"
)
"""Words that name a breach. Only the singular: "bepalingen over datalekken", "several data
breaches in the sector" speak of breaches in general."""

GENERAL = re.compile(
    r"\b(?:webinar|seminar|congres|symposium|cursus|training|nieuwsbrief|newsletter|"
    r"conference|aanmelden|inschrijven|register now|tickets?|journalist|artikel|article|"
    r"digest|in this issue|deze editie|pentest\w*|aanbieding|vaste prijs|fixed price|"
    r"unsubscribe|afmelden)\b"
)
"""Words of mail about breaches in general (an event, a course, a press question): with
no described event such a mail goes to review, not to the breach track."""

EVENTS: dict[str, re.Pattern[str]] = {
    "misdirected": re.compile(
        r"\b(?:(?:per ongeluk|abusievelijk|per abuis|onbedoeld|foutief|ten onrechte|"
        r"accidentally|mistakenly|inadvertently|by mistake|in error|erroneously)"
        r"(?:\s+\S+){0,14}?\s+(?:naar|aan|to|with) (?:de |het |een |the |a |an )?"
        r"(?:verkeerde|andere|onjuiste|externe|iemand|derde|wrong|another|external|someone|"
        r"other|incorrect|unintended)"
        r"|(?:verkeerde|onjuiste) (?:ontvanger|geadresseerde)s?"
        r"|(?:naar|aan|bij) (?:de |een )?(?:verkeerde|onjuiste|andere) (?:persoon|klant|"
        r"werkgever|collega|relatie|deelnemer|e-?mailadres|adres)"
        r"|(?:van|voor) (?:een |de )?andere (?:klant|deelnemer|relatie|persoon|werknemer)"
        r"|(?:van|of) (?:een |de |a |another )?(?:andere |other )?(?:collega|colleague|klant|"
        r"deelnemer|relatie|persoon|werknemer|participant|member|client|employee|person)"
        r"(?:\s+\S+){0,3}?\s+(?:meegestuurd|meegezonden|mee verstuurd)"
        r"|(?:wrong|unintended|incorrect) (?:recipient|addressee)s?"
        r"|to (?:the |a )?wrong (?:person|address|e-?mail address|client|customer|employer|"
        r"participant|member|recipient)s?"
        r"|misdirect\w*|(?:sent|mailed|emailed|gestuurd|verstuurd) (?:to|naar) (?:the |de |een )?"
        r"(?:wrong|verkeerde)"
        r"|(?:in de |in |open )?cc (?:in plaats van|instead of) (?:de )?bcc"
        r"|(?:terecht ?gekomen|beland) bij (?:de |een )?(?:verkeerde|andere|derde|onbekende)"
        r"|(?:ended up|landed) with (?:the wrong|another|a third)"
        r"|(?:naar|aan) iemand anders (?:ge|ver)stuurd"
        r"|(?:sent|mailed|emailed|forwarded) (?:\S+ ){0,5}to (?:someone|somebody) else"
        r"|(?:received|ontvangen|ontving|kreeg|got|gekregen) (?:\S+ ){0,2}(?:wrong|verkeerde|"
        r"onjuiste) (?:document|bijlage|attachment|brief|letter|overzicht|overview|file|"
        r"bestand|envelop|envelope|post|mail)s?"
        r"|(?:another|other) (?:recipient|person|client|customer|participant|member|"
        r"employee)'?s|van een andere ontvanger"
        r"|not (?:meant|intended|addressed) for (?:us|me|him|her|them)|received (?:it |this )?"
        r"in error|niet voor (?:ons|mij|hem|haar|hen) (?:bestemd|bedoeld|was)"
        r"|(?:per abuis|ten onrechte|abusievelijk) (?:\S+ ){0,3}ontvangen"
        r"|naar (?:het |een |haar |zijn )?oude adres|to (?:an|the|her|his) old address)\b"
    ),
    "lost_device": re.compile(
        r"\b(?:laptop|notebook|telefoon|mobiel(?:tje)?|smartphone|iphone|usb[- ]?sticks?|"
        r"tablet|ipad|phone|mobile|device|apparaat|harde schijf|hard (?:drive|disk)|"
        r"schijf|tas|bag|rugzak|backpack|map|folder|dossiers?|ordner|werkmap|briefcase)"
        r"(?! ?(?:numbers?|nummers?|calls?|records))"
        + r"(?:(?:\s+\S+){0,6}?\s+(?:is |was |zijn |were |has been |have been |raakte |got )?"
        r"(?:gestolen|kwijt(?:geraakt)?|verloren|vermist|zoekgeraakt|ontvreemd|"
        r"stolen|lost|missing|misplaced)|(?:\s+\S+){7,14}?\s+(?:is|was|zijn|were|has been|"
        r"have been) (?:gestolen|kwijtgeraakt|verloren|vermist|zoekgeraakt|ontvreemd|stolen|"
        r"lost|misplaced))\b"
        r"|\b(?:gestolen|verloren|vermiste|kwijtgeraakte|ontvreemde|stolen|lost|missing)"
        r"(?:\s+\S+){0,2}?\s+(?:laptop|notebook|telefoon|smartphone|usb[- ]?stick|tablet|"
        r"phone|mobile|device|harde schijf|hard drive|tas|bag|dossier|folder)s?\b"
        r"|\b(?:inbraak|ingebroken|break[- ]?in|burglary|broken into)\b"
        r"|\b(?:laptop|telefoon|tas|bag|dossiers?|map|folder|usb[- ]?stick|phone|laptops)"
        r"(?:\s+\S+){0,5}?\s+(?:laten liggen|achtergelaten|vergeten|left behind|left on|"
        r"forgotten)\b"
        r"|\b(?:niet|not) (?:\S+ ){0,2}(?:gewist|wiped|geschoond)\b"
    ),
    "hacked": re.compile(
        r"\b(?:(?:account|mailbox|e-?mail\w*|systeem|systemen|server|computer|laptop|website|"
        r"portaal|portal|wachtwoord|password|system|network|netwerk|omgeving|environment)"
        r"(?:\s+\S+){0,5}?\s+(?:is |was |has been |zijn |were )?(?:gehackt|gehacked|hacked|"
        r"compromised|gecompromitteerd|overgenomen|geinfecteerd|infected|besmet)"
        r"|(?:gehackt|gehackte|hacked|compromised|gecompromitteerde?|geinfecteerde?|infected)"
        r"(?:\s+\S+){0,2}?\s+(?:account|mailbox|e-?mail\w*|systeem|server|computer|laptop|"
        r"website|portaal|portal|system|network|netwerk)"
        r"|phishing\w*(?:\s+\S+){0,8}?\s+(?:geklikt|ingevuld|ingelogd|clicked|entered|"
        r"logged in|gegevens|wachtwoord|password|toegang|access)|malware|ransom|"
        r"onbevoegd\w*(?: \S+){0,3} toegang|ongeautoriseerde toegang|onrechtmatige toegang|"
        r"unauthori[sz]ed (?:access|person|party|third part(?:y|ies))|"
        r"toegang (?:gekregen|verschaft) tot|gained access to|accessed by|"
        r"(?:credentials|inloggegevens|wachtwoord|password|login details)(?:\s+\S+){0,3}?\s+"
        r"(?:stolen|gestolen|buitgemaakt|phished|gephisht|misbruikt|misused)|"
        r"(?:logged|ingelogd) (?:into|in op) (?:\S+ ){0,2}(?:account|mailbox|portal|portaal)|"
        r"account (?:\S+ ){0,3}(?:misused|misbruikt)|"
        r"(?:onrechtmatig|zonder (?:zakelijke )?(?:aanleiding|reden|noodzaak))(?:\s+\S+){0,4}?"
        r"\s+(?:geopend|ingezien|bekeken|opgevraagd))\b"
    ),
    "leaked": re.compile(
        r"\b(?:(?:uit)?gelekt|lekken|leaked|leak|openbaar (?:toegankelijk|inzichtelijk|"
        r"zichtbaar|gemaakt)|onbeveiligd (?:online|toegankelijk|opgeslagen)|"
        r"publicly (?:accessible|available|visible|exposed|shared)|exposed|"
        r"(?:open|toegankelijk|zichtbaar|gedeeld) (?:voor|met) iedereen|iedereen met de link|"
        r"anyone with the link|open to (?:everyone|anyone)|"
        r"(?:kon|konden|could) (?:\S+ ){0,4}(?:inzien|meekijken|bekijken|see|view|access)"
        r"(?: \S+){0,4} (?:gegevens|data|dossiers?|files|records))\b"
    ),
}
"""Words that describe a breach, by kind of event."""

HINTS = re.compile(
    r"\b(?:gestolen|ontvreemd|zoekgeraakt|kwijtgeraakt|vermist|stolen|misplaced|"
    r"per ongeluk|abusievelijk|per abuis|accidentally|mistakenly|by mistake|inadvertently|"
    r"gehackt|hacked|onbevoegd\w*|unauthori[sz]ed|gelekt|uitgelekt|leaked|niet (?:voor mij|"
    r"aan mij) (?:bestemd|gericht)|not (?:meant|intended|addressed) (?:for|to) me|"
    r"niet (?:meer )?(?:worden |zijn )?(?:teruggevonden|terug te vinden)|"
    r"(?:could|can) ?not be (?:found|located|recovered|traced))\b"
)
"""Words that may tell of a breach in words the patterns above do not cover: beside personal
data (`PERSONAL`), such a mail goes to review rather than being left as ordinary mail."""

PERSONAL = re.compile(
    r"\b(?:persoonsgegevens|gegevens van|loonstro\w*|salarisgegevens|bsn|\w*dossiers?|"
    r"klantgegevens|medische|personal data|client (?:data|files)|payslips?|medical|records)\b"
)

DATA = re.compile(
    r"\b(?:\w*gegevens|loonstro(?:o)?k\w*|salarisstro(?:o)?k\w*|jaaropgave\w*|bsn|"
    r"burgerservicenummer\w*|dossier\w*|personeelsdossier\w*|salaris\w*|medisch\w*|"
    r"klant\w*|medewerkers?|werknemers?|deelnemers?|e-?mails?|mailbox|bijlage\w*|"
    r"adres(?:sen)?|namen|documenten|bestand\w*|overzicht\w*|lijst\w*|pensioen\w*|"
    r"personal|data|payslips?|records|files?|documents?|spreadsheet|attachment\w*|"
    r"clients?|customers?|employees?|members?|participants?|addresses|names|salar(?:y|ies)|"
    r"pension\w*|account\w*|inbox)\b"
)
"""Words of personal data or documents: an event counts only beside one of them."""


def breach_evidence(text: str) -> tuple[str, ...]:
    """The phrases of `text` (normalised) that make it a breach notice; () when none.
    A described event counts only when the text also speaks of data or documents."""
    found = [m.group(0) for m in NAMED.finditer(text)]
    if DATA.search(text):
        for pattern in EVENTS.values():
            found += [m.group(0) for m in pattern.finditer(text)]
    return tuple(dict.fromkeys(f.strip() for f in found))[:6]


def breach_route(result: Classification, text: str) -> Classification:
    """Route `breach` for a mail that reads as a breach notice (no acknowledgement, no
    identity check). A recognised request of another kind than a complaint that also speaks
    of a breach ("na het datalek wil ik inzage") goes to review: a person opens the request
    and records the breach. Machine mail (auto-replies, lists) is left as it is."""
    if result.auto_reply:
        return result
    evidence = breach_evidence(text)
    if not evidence:
        return _hinted(result, text)
    described = any(p.search(text) for p in EVENTS.values()) and DATA.search(text)
    if not described and GENERAL.search(text):
        return replace(
            result,
            needs_triage=True,
            route="review",
            reason="speaks of a personal data breach, perhaps in general",
            evidence=(*result.evidence, *(f"{e} (breach)" for e in evidence))[:8],
        )
    if result.route == "case" and result.category != "complaint":
        return replace(
            result,
            needs_triage=True,
            route="review",
            reason="a request that also reports a possible personal data breach",
            evidence=(*result.evidence, *(f"{e} (breach)" for e in evidence))[:8],
        )
    return replace(
        result,
        needs_triage=False,
        route="breach",
        reason="a personal data breach notice",
        evidence=evidence,
    )


def _hinted(result: Classification, text: str) -> Classification:
    """Ordinary mail that may tell of a breach in other words goes to a person."""
    if result.route != "ignore" or not (HINTS.search(text) and PERSONAL.search(text)):
        return result
    hints = tuple(dict.fromkeys(m.group(0) for m in HINTS.finditer(text)))[:3]
    return replace(
        result,
        needs_triage=True,
        route="review",
        reason="may tell of a personal data breach",
        evidence=(*result.evidence, *(f"{h} (breach)" for h in hints))[:8],
    )

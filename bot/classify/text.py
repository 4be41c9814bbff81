"""Normalise mail text for matching: lower case, no accents, one sentence per line."""

import re
import unicodedata

from bot.mail.htmltext import html_to_text as mail_html_to_text

__all__ = ["html_to_text", "normalise", "sentences"]

_HTML_HINT = re.compile(r"<(html|body|div|p|br|span|table)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\s])|[!?]+|[;:]\s+|\s+-\s+")
_ABBREVIATION = re.compile(
    r"\b(art|nr|mr|dhr|mevr|mw|bijv|ca|drs|ir|ing|st|jr|sr)\.", re.IGNORECASE
)
_NOISE = re.compile(r"[^\w\s,'@-]+")
_QUOTES = str.maketrans(
    # brackets close a clause: "ik wil (niet namens de werkgever) graag opvragen" keeps the
    # negation inside the aside
    {"\u2019": "'", "\u2018": "'", "`": "'", "\u2013": "-", "\u2014": "-", "(": ",", ")": ","}
)


def html_to_text(text: str) -> str:
    """Plain text of an HTML body (a safety net: the mail parser usually does this), by the
    same extractor the mail parser uses."""
    return mail_html_to_text(text) if _HTML_HINT.search(text) else text


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation reduced to commas, whitespace collapsed."""
    plain = text.translate(_QUOTES)
    if not plain.isascii():
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.lower()
    plain = _NOISE.sub(" ", plain.replace(",", " , "))
    return " ".join(plain.split())


def sentences(text: str) -> list[str]:
    """Normalised sentences of `text`; hard-wrapped lines inside a paragraph are joined."""
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        joined = " ".join(line.strip() for line in paragraph.splitlines())
        joined = _ABBREVIATION.sub(r"\1", joined)
        for piece in _SENTENCE_END.split(joined):
            clean = normalise(piece).strip(" ,")
            if clean:
                found.append(clean)
    return found

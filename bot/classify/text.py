"""Normalise mail text for matching: lower case, no accents, one sentence per line."""

import html
import re
import unicodedata
from html.parser import HTMLParser

__all__ = ["html_to_text", "normalise", "sentences"]

_HTML_HINT = re.compile(r"<(html|body|div|p|br|span|table)\b", re.IGNORECASE)
_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "table", "blockquote"})
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


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    """Plain text of an HTML body (a safety net: the mail parser usually does this)."""
    if not _HTML_HINT.search(text):
        return text
    parser = _TextParser()
    parser.feed(text)
    parser.close()
    return html.unescape("".join(parser.parts))


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

"""HTML mail bodies as plain text, with the standard library's tolerant `html.parser`.

Scripts, styles and the document head are dropped; block elements become line breaks; entities
are decoded; `<blockquote>` content is prefixed with "> " per level so that quoted history in
HTML-only replies looks like quoted history in plain text.
"""

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
        "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"})
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._tail = ""  # the last two characters of the line so far
        self._skip_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self._break(paragraph=tag in _PARAGRAPH)
            self._quote_depth += tag == "blockquote"
            self._pre_depth += tag == "pre"
            if tag == "li":
                self._add("- ")
        elif tag in ("td", "th") and self._line:
            self._add(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._break(paragraph=tag in _PARAGRAPH)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK:
            self._break(paragraph=tag in _PARAGRAPH)
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._add(first)
            for line in rest:
                self._break(paragraph=False)
                self._add(line)
            return
        text = _SPACES.sub(" ", data)
        if not self._line or self._tail.endswith((" ", "- ")):
            text = text.lstrip()
        self._add(text)

    def _add(self, piece: str) -> None:
        # Keeping the tail saves joining a long line for every piece of text in it.
        self._line.append(piece)
        self._tail = (self._tail + piece)[-2:]

    def _break(self, *, paragraph: bool) -> None:
        line = "".join(self._line).rstrip()
        self._line, self._tail = [], ""
        prefix = "> " * self._quote_depth
        if line:
            self.lines.append(prefix + line)
        if paragraph and self.lines and self.lines[-1].strip("> "):
            self.lines.append(prefix.rstrip())

    def text(self) -> str:
        self._break(paragraph=False)
        while self.lines and not self.lines[-1].strip("> "):  # trailing paragraph separators
            self.lines.pop()
        joined = "\n".join(self.lines)
        return _BLANK_LINES.sub("\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML document or fragment; never raises on malformed markup."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError, IndexError):  # old html.parser bugs on garbage input
        pass
    return parser.text().replace("\xa0", " ")

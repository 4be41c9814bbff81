"""Rendering mail from Jinja2 templates (pure): one text and one HTML file per mail per
language under templates/<lang>/, subject in the text file's `subject` block."""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("nl", "en")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_ITEM_MARKS = ("- ", "* ")
# an aligned row of a small table: `Kenmerk:      DSR-2026-0007`
_ROW = re.compile(r"[^\s:][^:]*: {2,}(?=\S)")
# a closing's lines are short ("Met vriendelijke groet,", a name); a longer first line ending
# in a comma is prose
_CLOSING_WIDTH = 40


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@functools.cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Loaded once (bot.intake.warm_up loads the intake's at start), not looked at on disk
        # again for every mail: three stat calls, a tenth of the rendering.
        auto_reload=False,
    )


def reflow(text: str, *, width: int = 72) -> str:
    """Wrap every paragraph at `width` (RFC 5322 section 2.1.1 asks for at most 78) so inserted
    names and dates leave no ragged or overlong lines. Prose lines of a paragraph are joined and
    filled; a list item (`- ...`) and an aligned `Label:   value` row keep their own line and
    wrap under themselves; an indented line (a code, a link, a quoted block) keeps its indent.
    A word longer than the line (a link, a hash, a code) is never broken; a closing (`Met
    vriendelijke groet,` then a name) is kept line by line."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]
    out = []
    for paragraph in paragraphs:
        lines = [line.rstrip() for line in paragraph.splitlines()]
        if _is_closing(lines):
            out.append("\n".join(lines))
            continue
        wrapped: list[str] = []
        prose: list[str] = []
        for line in lines:
            stripped = line.lstrip()
            indent = line[: len(line) - len(stripped)]
            item = stripped.startswith(_ITEM_MARKS)
            row = _ROW.match(line)
            if indent or item or row:
                if prose:
                    wrapped.append(_fill(" ".join(prose), width, "", ""))
                    prose = []
                hanging = " " * row.end() if row else indent + ("  " if item else "")
                wrapped.append(_fill(stripped, width, indent, hanging))
            elif stripped:
                prose.append(stripped)
        if prose:
            wrapped.append(_fill(" ".join(prose), width, "", ""))
        out.append("\n".join(wrapped))
    return "\n\n".join(out) + "\n"


def _fill(text: str, width: int, indent: str, hanging: str) -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _is_closing(lines: list[str]) -> bool:
    """A closing (`Met vriendelijke groet,` then a name) is kept line by line."""
    return (
        len(lines) <= 3
        and lines[0].endswith(",")
        and all(len(line) <= _CLOSING_WIDTH for line in lines)
    )


def render_mail(name: str, *, language: str, context: dict[str, Any]) -> RenderedMail:
    """Render `<language>/<name>.txt` and `.html`; Dutch when the language is unknown."""
    lang = language if language in LANGUAGES else "nl"
    env = environment()
    text_template = env.get_template(f"{lang}/{name}.txt")
    ctx = text_template.new_context(dict(context))
    subject = "".join(text_template.blocks["subject"](ctx)).strip()
    text = reflow("".join(text_template.blocks["body"](ctx)))
    html = env.get_template(f"{lang}/{name}.html").render(**context, subject=subject)
    return RenderedMail(subject=" ".join(subject.split()), text=text, html=html)

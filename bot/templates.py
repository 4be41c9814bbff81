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
    """Re-wrap prose paragraphs so inserted names and dates leave no ragged lines; indented
    lines (codes, quoted blocks) stay as written."""
    paragraphs = [p for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]
    out = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        if any(line.startswith((" ", "\t")) for line in lines) or len(lines) == 1:
            out.append("\n".join(line.rstrip() for line in lines))
        elif _is_closing(lines):
            out.append("\n".join(lines))
        else:
            out.append(textwrap.fill(" ".join(lines), width=width, break_on_hyphens=False))
    return "\n\n".join(out) + "\n"


def _is_closing(lines: list[str]) -> bool:
    """A closing (`Met vriendelijke groet,` then a name) is kept line by line."""
    return lines[0].rstrip().endswith(",") and len(lines) <= 3


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

"""Every mail template renders in Dutch and English with StrictUndefined and escaped HTML."""

from pathlib import Path

import pytest

from bot.templates import LANGUAGES, TEMPLATES, reflow, render_mail

NAMES = sorted(p.stem for p in (TEMPLATES / "nl").glob("*.txt"))
CONTEXT = {
    "reference": "DSR-2026-0042",
    "name": "<b>Jan</b> & Co",
    "received": "2 maart 2026",
    "due": "2 april 2026",
    "extended_due": "2 juni 2026",
    "kind_words": "inzage",
    "code": "123456",
    "code_hours": 24,
    "code_elsewhere": False,
    "reasons": "drie archieven <script>",
    "message": "reden <x>",
    "work": [{"system": "CRM <script>", "result": "kept", "law": "art. 52 AWR <script>"}],
    "told": ["Incasso <script>"],
    "system": "Salariskantoor <script>",
    "action": "erase",
    "by": "23 maart 2026",
    "person": "<b>Jan</b>@example.nl",
    "instructions": "zoek op <script>",
    "download_url": "https://desk.example.nl/d/token<script>",
    "download_days": 14,
    "download_max": 5,
    "minutes": 15,
    "purpose": "download",
    "task_id": 12,
    "results": ["erased", "kept", "nothing_found"],
    "today": "4 december 2026",
    "systems": [
        {
            "name": "CRM <script>",
            "kind": "processor",
            "data": ["naam <script>"],
            "purposes": ["advies"],
            "legal_basis": "art. 6",
            "retention": "2 jaar",
            "keep_law": "",
            "recipients": ["Groep <script>"],
            "source": "",
            "files": ["crm/a.csv"],
        }
    ],
    "portability": True,
    "machine_readable": ["crm/a.csv"],
    # the breach track's templates
    "opened": True,
    "overdue": False,
    "hours_text": "nog 71 uur tot de meldtermijn",
    "aware": "02-03-2026 10:30",
    "processor": "salaris <script>",
    "missing": ["contact <script>"],
    "command": "dsr breaches decide DSR-2026-0042",
    "items": ["de gevolgen <script>"],
    "nature": "laptop gestolen <script>",
    "data_categories": "naam <script>",
    "consequences": "",
    "measures": "gewist <script>",
    "contact": "",
}


def test_both_languages_have_the_same_templates() -> None:
    for lang in LANGUAGES:
        names = {p.name for p in Path(TEMPLATES / lang).iterdir()}
        assert names == {p.name for p in Path(TEMPLATES / "nl").iterdir()}


@pytest.mark.parametrize("language", LANGUAGES)
# The secretariat's reminder and digest take the sweep's own context; tests/bot/test_sweep.py
# renders them.
@pytest.mark.parametrize("name", [n for n in NAMES if n not in {"digest", "reminder_secretariat"}])
def test_template_renders_with_reference_and_escaped_html(name: str, language: str) -> None:
    rendered = render_mail(name, language=language, context=CONTEXT)
    assert rendered.subject and "\n" not in rendered.subject
    assert "DSR-2026-0042" in rendered.subject + rendered.text
    assert "<script>" not in rendered.html and "<b>Jan</b>" not in rendered.html
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")


def test_reflow_keeps_indented_codes_and_short_closing_lines() -> None:
    text = "Een lange zin die\nover twee regels loopt.\n\n    123456\n\nMet groet,\nAnna\n"
    assert (
        reflow(text)
        == "Een lange zin die over twee regels loopt.\n\n    123456\n\nMet groet,\nAnna\n"
    )


def test_reflow_wraps_prose_at_72_without_splitting_hyphenated_words() -> None:
    words = ["persoonsgegevens-overzicht"] + ["inzage"] * 30
    text = reflow(" ".join(words[:6]) + "\n" + " ".join(words[6:]) + "\n")
    lines = text.splitlines()
    assert len(lines) > 1 and all(len(line) <= 72 for line in lines)
    assert text.split() == words


def test_reflow_wraps_a_one_line_paragraph_and_keeps_links_and_codes_whole() -> None:
    # A one-line paragraph went out at ~100 characters; RFC 5322 asks for lines of at most 78.
    url = "https://desk.example.nl/d/" + "x" * 80
    sentence = "Wij hebben de ontvangers van uw gegevens op de hoogte gebracht (artikel 19 AVG)."
    text = reflow(f"{sentence} Zie {url} voor uw kopie.\n\n    123456\n")
    lines = text.splitlines()
    assert all(len(line) <= 72 for line in lines if url not in line)
    assert url in lines and "    123456" in lines
    assert " ".join(text.split()) == f"{sentence} Zie {url} voor uw kopie. 123456"


def test_reflow_keeps_list_items_and_table_rows_on_their_own_lines() -> None:
    long_item = "- DSR-2026-0008: " + "taak open, " * 10
    text = reflow(
        "Kenmerk:      DSR-2026-0007\nSoort:        inzage\n\n"
        f"Open taken: 2\n{long_item}\n- DSR-2026-0009: klaar\n\n"
        "  - " + "recht op inzage " * 6 + "\n"
    )
    lines = text.splitlines()
    assert lines[:2] == ["Kenmerk:      DSR-2026-0007", "Soort:        inzage"]
    assert lines[3] == "Open taken: 2" and lines[4].startswith("- DSR-2026-0008:")
    assert lines[5].startswith("  taak open") and "- DSR-2026-0009: klaar" in lines
    assert lines[-2].startswith("  - recht") and lines[-1].startswith("    recht")
    assert all(len(line) <= 72 for line in lines)


def test_reflow_joins_a_comma_ending_prose_line_with_the_next() -> None:
    first = (
        "If you do not agree, you can lodge a complaint with the Dutch Data Protection Authority,"
    )
    text = reflow(f"{first}\nthe Autoriteit Persoonsgegevens.\n")
    assert all(len(line) <= 72 for line in text.splitlines())
    assert text.split() == f"{first} the Autoriteit Persoonsgegevens.".split()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", [n for n in NAMES if n not in {"digest", "reminder_secretariat"}])
def test_every_line_of_a_rendered_mail_fits_72_characters(name: str, language: str) -> None:
    rendered = render_mail(name, language=language, context=CONTEXT)
    too_long = [
        line
        for line in rendered.text.splitlines()
        if len(line) > 72 and CONTEXT["download_url"] not in line
    ]
    assert too_long == []


@pytest.mark.parametrize(("language", "yes", "no"), [("nl", "ja", "nee"), ("en", "yes", "no")])
def test_ack_asks_consent_with_the_words_the_reply_reader_accepts(
    language: str, yes: str, no: str
) -> None:
    from bot.consent import consent_in

    text = render_mail("ack", language=language, context=CONTEXT).text
    assert f'"{yes}"' in text and f'"{no}"' in text
    assert consent_in(yes) is True and consent_in(no) is False

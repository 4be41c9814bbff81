"""A CSV cell a spreadsheet would run as a formula is written as text; every other cell is
written as it is (bot/csv_cells.py)."""

from __future__ import annotations

import csv
import io

import pytest

from bot.csv_cells import safe_cell, safe_row

FORMULAS = (
    '=HYPERLINK("http://evil.example","klik")',
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "-",
    "- Wij hebben de ontvanger gevraagd de mail te verwijderen.",
)
ORDINARY = (
    "DL-2026-0001",
    "DSR-2026-0042",
    "2026-03-02T09:00:00+01:00",
    "crm/relatie_Jan_Jansen.csv",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "yes",
    "",
    "'=already text",
    "Salarisgegevens bij een derde: risico voor de betrokkenen.",
    " =1+1",
    "-5",
    "-0.25",
)


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [*ORDINARY, 0, -5, 1234, 2.5, None, True])
def test_ordinary_cells_and_non_text_values_are_unchanged(value: object) -> None:
    assert safe_cell(value) is value


def test_a_safe_row_reads_back_through_the_csv_module_with_quoting_intact() -> None:
    row = {"summary": '=HYPERLINK("http://evil.example","klik")', "size": 12, "note": None}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writerow(safe_row(row))
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ['\'=HYPERLINK("http://evil.example","klik")', "12", ""]
    ]

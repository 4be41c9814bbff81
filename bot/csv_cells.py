"""Cells for CSV files a person opens in a spreadsheet: text that Excel or LibreOffice would
run as a formula is written as text ("CSV injection", OWASP).

A string that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, which the spreadsheet reads as "this cell is text". Other values (numbers, None)
and safe strings are written as they are; quoting stays with the csv module.
A plain negative number written as a string ("-5", "-0.25") is left as it is: a spreadsheet
reads it as that number, not as a formula, and the apostrophe would turn it into text.

The same holds after each `;` in a cell. The csv module quotes a cell only for a comma, a
quote or a line break, and Excel opens a .csv with the system's list separator, which is `;`
in a Dutch Windows: "a;=1+1;b" is then three cells, the second a formula. So "a;'=1+1;b".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NEGATIVE = re.compile(r"-[0-9]+(?:\.[0-9]+)?")
_LIST_SEPARATOR = re.compile(r"(;)")


def safe_cell(value: object) -> object:
    """`value`, with an apostrophe in front of the text a spreadsheet would run: at its start,
    and after each `;`, where a spreadsheet splitting on `;` starts a cell."""
    if not isinstance(value, str):
        return value
    if ";" not in value:
        return _text(value)
    made = "".join(_text(piece) for piece in _LIST_SEPARATOR.split(value))
    return value if made == value else made


def _text(piece: str) -> str:
    if not piece.startswith(FORMULA_STARTS) or _PLAIN_NEGATIVE.fullmatch(piece):
        return piece
    return "'" + piece


def safe_row(row: Mapping[str, object]) -> dict[str, object]:
    """A row for csv.DictWriter with every cell made safe."""
    return {column: safe_cell(value) for column, value in row.items()}

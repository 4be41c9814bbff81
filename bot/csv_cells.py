"""Cells for CSV files a person opens in a spreadsheet: text that Excel or LibreOffice would
run as a formula is written as text ("CSV injection", OWASP).

A string that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, which the spreadsheet reads as "this cell is text". Other values (numbers, None)
and safe strings are written as they are; quoting stays with the csv module.
A plain negative number written as a string ("-5", "-0.25") is left as it is: a spreadsheet
reads it as that number, not as a formula, and the apostrophe would turn it into text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NEGATIVE = re.compile(r"-[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: object) -> object:
    """`value`, with an apostrophe in front when it is text a spreadsheet would run."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NEGATIVE.fullmatch(value):
        return value
    return "'" + value


def safe_row(row: Mapping[str, object]) -> dict[str, object]:
    """A row for csv.DictWriter with every cell made safe."""
    return {column: safe_cell(value) for column, value in row.items()}

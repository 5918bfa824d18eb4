"""Cells for CSV files that people open in a spreadsheet: numbers as plain text, text made inert.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some, a tab or carriage return) as a formula: a student named
``=HYPERLINK(...)`` would otherwise run code on the instructor's machine
(CSV injection, OWASP). Such text gets a leading ``'``, which spreadsheets show
as text and do not evaluate. Text that starts with ``'`` gets one more, so
that :func:`read_text_cell` undoes exactly what :func:`text_cell` did. Files are written as UTF-8 with a byte-order mark
so that Excel reads Chinese text correctly; Python reads them back with
``utf-8-sig``.
"""

from __future__ import annotations

CSV_ENCODING = "utf-8-sig"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTED = (*_FORMULA_START, "'")


def text_cell(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (a leading ``'`` if it could start a formula)."""
    return "'" + value if value.startswith(_QUOTED) else value


def read_text_cell(cell: str) -> str:
    """The text a :func:`text_cell` cell stands for (its leading ``'``, if any, removed)."""
    return cell[1:] if cell.startswith("'") else cell


def number_cell(value: float | None) -> str:
    """A score as short text: ``4``, ``2.666667``; blank for ``None`` (not graded yet)."""
    if value is None:
        return ""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text

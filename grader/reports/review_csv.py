"""The review sheet as CSV: written answers out for hand grading, their scores and comments back in.

Columns: ``assignment``, ``question``, ``points``, ``student``, ``score``,
``comment``, ``answer``. A grader fills in ``score`` (and ``comment``) in a
spreadsheet; :func:`read_review_csv` reads the sheet back and checks its
shape only: whether each score fits its question is for the caller, who knows
the grades. Rows are numbered as a spreadsheet shows them (the header is row 1),
whatever newlines the answers hold.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import InputError
from grader.reports.csv_cells import CSV_ENCODING, number_cell, read_text_cell, text_cell
from grader.reports.review import ReviewItem

COLUMNS = ("assignment", "question", "points", "student", "score", "comment", "answer")
REQUIRED = ("assignment", "question", "student", "score")


@dataclass(frozen=True)
class ReviewRow:
    """A row read back from a review sheet: who, which question, and the score as typed."""

    row: int
    assignment: str
    student: str
    question: str
    score: str
    comment: str


def review_csv(items: Sequence[ReviewItem]) -> str:
    """The review sheet as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for item in items:
        writer.writerow([text_cell(item.assignment), text_cell(item.question), number_cell(item.points),
                         text_cell(item.student), number_cell(item.score), text_cell(item.comment),
                         text_cell(item.answer)])
    return out.getvalue()


def write_review_csv(items: Sequence[ReviewItem], path: Path) -> None:
    """Write :func:`review_csv` to ``path`` (UTF-8 with a byte-order mark, for Excel)."""
    path.write_text(review_csv(items), encoding=CSV_ENCODING, newline="")


def read_review_csv(path: Path) -> list[ReviewRow]:
    """The rows of a filled-in review sheet; InputError (one line) if it is not one."""
    try:
        text = path.read_text(encoding=CSV_ENCODING)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} as UTF-8 text: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise InputError(f"{path} is not valid CSV: {exc}") from None
    if not records:
        raise InputError(f"{path} is empty")
    header = [h.strip().lower() for h in records[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path} has no {', '.join(repr(c) for c in missing)} column "
                         f"(expected the columns of 'grader written export')")
    twice = [c for c in (*REQUIRED, "comment") if header.count(c) > 1]
    if twice:  # which one holds the scores?
        raise InputError(f"{path} has {header.count(twice[0])} {twice[0]!r} columns: keep one")
    where = {name: header.index(name) for name in (*REQUIRED, "comment") if name in header}
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # a blank line a spreadsheet left at the end

        def cell(name: str, record: list[str] = record) -> str:
            index = where.get(name)
            return read_text_cell(record[index]) if index is not None and index < len(record) else ""

        rows.append(ReviewRow(number, cell("assignment"), cell("student"), cell("question"), cell("score").strip(),
                              cell("comment")))
    return rows

"""The class's grades as one CSV table: a row per student, a column per question, then the totals.

Columns: ``student``, each autograded question's score, each written
question's hand-entered score (blank until graded), ``autograded``,
``written``, ``total``, ``max`` and ``pending`` (the written questions still
to grade, so that a total that is not final says so). Questions come in the
manifest's order when the caller knows the manifest, else in the order the
grades list them. Every text cell is made inert for spreadsheets
(:mod:`grader.reports.csv_cells`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.model import Grade
from grader.reports.csv_cells import CSV_ENCODING, number_cell, text_cell


@dataclass(frozen=True)
class Columns:
    """The question columns of the table: autograded and written ids with their points, in order."""

    questions: tuple[tuple[str, float], ...]
    written: tuple[tuple[str, float], ...]


def columns_from_grades(grades: Mapping[str, Grade]) -> Columns:
    """The question columns as the grades list them (first seen first), for when no manifest is at hand."""
    questions: dict[str, float] = {}
    written: dict[str, float] = {}
    for grade in grades.values():
        for q in grade.questions:
            questions.setdefault(q.id, q.max_score)
        for w in grade.written:
            written.setdefault(w.id, w.points)
    return Columns(tuple(questions.items()), tuple(written.items()))


def gradebook_rows(grades: Mapping[str, Grade], columns: Columns) -> list[list[str]]:
    """The table, header first, one row per student in ``grades`` order."""
    header = ["student", *(q for q, _ in columns.questions), *(w for w, _ in columns.written),
              "autograded", "written", "total", "max", "pending"]
    rows = [[text_cell(h) for h in header]]
    written_points = sum(points for _, points in columns.written)
    for student, grade in grades.items():
        scores = {q.id: q.score for q in grade.questions}
        written = {w.id: w.score for w in grade.written}
        written_total = sum(s for s in written.values() if s is not None)
        pending = [w for w, _ in columns.written if written.get(w) is None]
        autograded = grade.score
        rows.append([
            text_cell(student),
            *(number_cell(scores.get(q)) for q, _ in columns.questions),
            *(number_cell(written.get(w)) for w, _ in columns.written),
            number_cell(autograded),
            number_cell(written_total),
            number_cell(autograded + written_total),
            number_cell(grade.max_score + written_points),
            text_cell(" ".join(pending)),
        ])
    return rows


def gradebook_csv(grades: Mapping[str, Grade], columns: Columns | None = None) -> str:
    """The table as CSV text (``\\r\\n`` line ends, as RFC 4180 and spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(gradebook_rows(grades, columns or columns_from_grades(grades)))
    return out.getvalue()


def write_gradebook_csv(grades: Mapping[str, Grade], path: Path, columns: Columns | None = None) -> None:
    """Write :func:`gradebook_csv` to ``path`` as UTF-8 with a byte-order mark (for Excel)."""
    path.write_text(gradebook_csv(grades, columns), encoding=CSV_ENCODING, newline="")


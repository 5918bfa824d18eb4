"""Hand-entered written scores, checked against the grades before any is stored.

A review sheet row names an assignment, a student and a written question; its
score must be a number from 0 to the question's points, as the student's
latest grade records them. A blank score means "not graded yet": a score
entered before for that answer is cleared (the sheet is exported with the
scores entered so far, so a blank is one someone emptied). One bad row
refuses the whole sheet, naming the row, so that a sheet is imported whole
or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.errors import InputError
from grader.gradebook import WrittenScore
from grader.model import Grade
from grader.reports.csv_cells import number_cell
from grader.reports.review_csv import ReviewRow


@dataclass(frozen=True)
class Checked:
    """The scores to store, and the rows left blank: (assignment, student, question)."""

    scores: tuple[WrittenScore, ...]
    blank: tuple[tuple[str, str, str], ...]


def check_scores(rows: Sequence[ReviewRow], grades: Mapping[str, Mapping[str, Grade]], source: str) -> Checked:
    """The rows' scores, checked against ``grades`` (assignment -> student -> grade); InputError otherwise.

    The error names the first bad row of ``source`` and how many more there are.
    """
    errors: list[str] = []
    scores: list[WrittenScore] = []
    seen: dict[tuple[str, str, str], int] = {}
    blank: list[tuple[str, str, str]] = []
    for row in rows:
        problem = _problem(row, grades, seen)
        if problem:
            errors.append(f"{source} row {row.row}: {problem}")
        elif not row.score:
            blank.append((row.assignment, row.student, row.question))
        else:
            scores.append(WrittenScore(row.student, row.assignment, row.question, float(row.score), row.comment))
        seen.setdefault((row.assignment, row.student, row.question), row.row)
    if errors:
        more = f" (and {len(errors) - 1} more bad rows)" if len(errors) > 1 else ""
        raise InputError(f"{errors[0]}{more}; nothing imported")
    return Checked(tuple(scores), tuple(blank))


def _problem(row: ReviewRow, grades: Mapping[str, Mapping[str, Grade]],
             seen: Mapping[tuple[str, str, str], int]) -> str | None:
    key = (row.assignment, row.student, row.question)
    if key in seen:
        return f"{row.student!r} {row.question!r} is already scored in row {seen[key]}"
    grade = grades.get(row.assignment, {}).get(row.student)
    if grade is None:
        return f"the gradebook has no grade of {row.student!r} for assignment {row.assignment!r}"
    points = {w.id: w.points for w in grade.written}
    if row.question not in points:
        return f"{row.question!r} is not a written question of {row.assignment!r}"
    if not row.score:
        return None
    try:
        if "_" in row.score:  # float() reads "0_5" as 5
            raise ValueError(row.score)
        score = float(row.score)
    except ValueError:
        return f"score {row.score!r} is not a number"
    if not math.isfinite(score) or not 0 <= score <= points[row.question]:
        return f"score {row.score!r} for {row.question} is not between 0 and {number_cell(points[row.question])}"
    return None

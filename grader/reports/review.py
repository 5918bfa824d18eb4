"""What a person grading written answers by hand reviews: one item per student and question.

Items are ordered by question, then student, so that a grader reads every
answer to ``w1`` together with its rubric, then every answer to ``w2``.
Both review formats (:mod:`grader.reports.review_csv`,
:mod:`grader.reports.review_html`) render this list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from grader.model import Grade


@dataclass(frozen=True)
class ReviewItem:
    """One student's answer to one written question, with what has been entered for it so far."""

    assignment: str
    question: str
    points: float
    student: str
    answer: str
    score: float | None = None
    comment: str = ""


def review_items(grades: Mapping[str, Grade], comments: Mapping[str, Mapping[str, str]] | None = None,
                 order: Sequence[str] | None = None) -> list[ReviewItem]:
    """The review items of ``grades`` (student -> grade), by question then student.

    ``comments`` (student -> question -> comment) fills in comments entered
    before; ``order`` fixes the question order (the manifest's), questions it
    does not name come after, first seen first.
    """
    items: dict[str, list[ReviewItem]] = {q: [] for q in order or ()}
    for student in sorted(grades):
        grade = grades[student]
        for w in grade.written:
            comment = (comments or {}).get(student, {}).get(w.id, "")
            items.setdefault(w.id, []).append(
                ReviewItem(grade.assignment, w.id, w.points, student, w.text, w.score, comment))
    return [item for question in items.values() for item in question]

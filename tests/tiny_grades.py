"""Real grades of tiny notebooks, for the tests of what stores and renders grades."""

from __future__ import annotations

from pathlib import Path

from grader.gradebook import Gradebook
from grader.grading import grade
from grader.job import prepare
from grader.model import Grade

from .conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS, write_notebook

# add forgets negative numbers (a hidden test fails), halve is wrong (a public test fails)
TINY_PARTLY_WRONG = ["import torch", "def add(a, b):\n    return abs(a) + b", TINY_CORRECT[2],
                     "def halve(x):\n    return x / 3"]


def grade_tiny(folder: Path, student: str, cells: list[str], answers: dict[str, str] | None = None,
               hidden: bool = True) -> Grade:
    """Grade a tiny notebook named after ``student`` (public and, by default, hidden tests)."""
    path = write_notebook(folder / f"{student}.ipynb", cells, answers=answers)
    return grade(prepare(path, str(TINY), TINY_SOLUTIONS if hidden else None))


def class_of_two(folder: Path) -> dict[str, Grade]:
    """alice: all correct with an answer to w1; bob: see ``TINY_PARTLY_WRONG``, no answer."""
    return {
        "alice": grade_tiny(folder, "alice", TINY_CORRECT, {"w1": "Because <b>a + b</b> & more."}),
        "bob": grade_tiny(folder, "bob", TINY_PARTLY_WRONG),
    }


def gradebook_of(path: Path, grades: dict[str, Grade]) -> Path:
    """A gradebook at ``path`` holding each student's grade for the tiny assignment (submission digest: the id)."""
    with Gradebook(path) as book:
        for student, graded in grades.items():
            book.record(student, "tiny", student, "suite", graded)
    return path

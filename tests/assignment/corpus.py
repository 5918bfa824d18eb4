"""What the wrong-submission tests share: where things are, grading a notebook, reading scores."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

import nbformat

from grader.grading import grade
from grader.job import prepare
from grader.model import Grade

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT_DIR = REPO / "assignments" / "optimization_intro"
SOLUTIONS_DIR = REPO / "solutions"
MASTER = SOLUTIONS_DIR / "optimization_intro" / "solution.ipynb"


def src(text: str) -> str:
    """A cell's source from an indented triple-quoted string."""
    return textwrap.dedent(text).strip() + "\n"


def grade_notebook(nb: nbformat.NotebookNode, path: Path) -> Grade:
    """Write ``nb`` to ``path`` and grade it with the public and hidden tests, in-process."""
    assert nb.metadata["grader"]["assignment"] == "optimization_intro"
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]
    return grade(prepare(path, assignment=str(ASSIGNMENT_DIR), solutions=SOLUTIONS_DIR))


def question_scores(g: Grade) -> dict[str, tuple[float, float]]:
    """(earned, possible) per question."""
    return {q.id: (q.score, q.max_score) for q in g.questions}


def part_scores(g: Grade, parts: Iterable[str]) -> dict[str, tuple[float, float]]:
    """(earned, possible) per part (= per student function), for these parts."""
    wanted = set(parts)
    totals: dict[str, list[float]] = {}
    for q in g.questions:
        for t in q.tests:
            earned = totals.setdefault(t.part, [0.0, 0.0])
            earned[0] += t.points
            earned[1] += t.max_points
    return {p: (round(e, 6), round(m, 6)) for p, (e, m) in totals.items() if p in wanted}


def failures(g: Grade, part: str) -> list[str]:
    """The failing tests of a part, with their messages."""
    return [f"{t.name}: {t.message}" for q in g.questions for t in q.tests if t.part == part and not t.passed]


def assert_lost_only_own_part(g: Grade, reference: Grade, function: str, parts: dict[str, str],
                              mutated: set[str]) -> None:
    """A mutant of ``function`` loses points in its part only.

    ``parts`` maps each student function to its question; every other part of
    the function's question keeps its share, and every question in which the
    notebook carries no mutant (``mutated``) scores as the reference does.
    """
    scores = part_scores(g, parts)
    earned, possible = scores[function]
    assert earned < possible, f"a mutant of {function} kept all its {possible} points"
    for other, owner in parts.items():
        if owner == parts[function] and other != function:
            assert scores[other][0] == scores[other][1], (other, failures(g, other)[:3])
    questions, expected = question_scores(g), question_scores(reference)
    for q in expected:
        if q not in mutated:
            assert questions.get(q) == expected[q], (q, questions.get(q), expected[q])

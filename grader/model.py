"""The grade model: one result object per graded submission.

Every output of the grader (terminal table, JSON, JUnit XML, Markdown) is a
rendering of a :class:`Grade`. The model is plain data: it knows nothing of
pytest, the worker or the notebook format, and it sits at the bottom of the
package's dependency chain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
Visibility = Literal["public", "hidden"]


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test item and the points it earned."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    outcome: Outcome
    points: float
    max_points: float
    message: str = ""
    hint: str = ""
    duration: float = 0.0
    visibility: Visibility = "public"
    part: str = ""

    @property
    def passed(self) -> bool:
        """Whether the test passed."""
        return self.outcome == "passed"


@dataclass(frozen=True)
class QuestionResult:
    """One autograded question: its tests and the points they add up to."""

    id: str
    score: float
    max_score: float
    tests: tuple[TestResult, ...] = ()

    @property
    def failed_tests(self) -> tuple[TestResult, ...]:
        """The tests of this question that did not pass."""
        return tuple(t for t in self.tests if not t.passed)


@dataclass(frozen=True)
class CellError:
    """An error raised by one of the notebook's code cells in the worker."""

    cell: int
    ename: str
    evalue: str
    traceback: str = ""


@dataclass(frozen=True)
class WrittenAnswer:
    """A written answer collected from a tagged Markdown cell, graded by hand."""

    id: str
    points: float
    text: str
    score: float | None = None


@dataclass(frozen=True)
class Grade:
    """The result of grading one submission."""

    assignment: str
    submission: str
    questions: tuple[QuestionResult, ...]
    cell_errors: tuple[CellError, ...] = ()
    written: tuple[WrittenAnswer, ...] = ()
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    resources: dict[str, float] = field(default_factory=dict)
    sandbox: tuple[str, ...] = ()
    hidden_tests: bool = False
    grader_version: str = ""

    @property
    def score(self) -> float:
        """Autograded points earned, over all questions."""
        return round(sum(q.score for q in self.questions), 6)

    @property
    def max_score(self) -> float:
        """Autograded points possible, over all questions."""
        return round(sum(q.max_score for q in self.questions), 6)

    @property
    def tests(self) -> tuple[TestResult, ...]:
        """Every test of every question, in question order."""
        return tuple(t for q in self.questions for t in q.tests)

    @property
    def all_passed(self) -> bool:
        """Whether every test passed (and there was at least one)."""
        tests = self.tests
        return bool(tests) and all(t.passed for t in tests)

    def to_dict(self) -> dict[str, Any]:
        """The grade as JSON-ready plain data, with the derived totals."""
        data = asdict(self)
        data["score"] = self.score
        data["max_score"] = self.max_score
        return data


def grade_from_dict(data: dict[str, Any]) -> Grade:
    """Rebuild a :class:`Grade` from :meth:`Grade.to_dict` output."""
    questions = tuple(
        QuestionResult(
            id=q["id"],
            score=q["score"],
            max_score=q["max_score"],
            tests=tuple(TestResult(**t) for t in q["tests"]),
        )
        for q in data["questions"]
    )
    return Grade(
        assignment=data["assignment"],
        submission=data["submission"],
        questions=questions,
        cell_errors=tuple(CellError(**c) for c in data.get("cell_errors", ())),
        written=tuple(WrittenAnswer(**w) for w in data.get("written", ())),
        warnings=tuple(data.get("warnings", ())),
        timings=dict(data.get("timings", {})),
        resources=dict(data.get("resources", {})),
        sandbox=tuple(data.get("sandbox", ())),
        hidden_tests=bool(data.get("hidden_tests", False)),
        grader_version=data.get("grader_version", ""),
    )

"""The grade model: one result object per graded submission.

Every output of the grader (terminal table, JSON, JUnit XML, Markdown) is a
rendering of a :class:`Grade`. The model is plain data: it knows nothing of
pytest, the worker or the notebook format, and it sits at the bottom of the
package's dependency chain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
Visibility = Literal["public", "hidden"]
Role = Literal["student", "reference"]


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
class Series:
    """One curve of a figure: ``y`` over the figure's ``x``; ``None`` where no finite value was drawn."""

    label: str
    y: tuple[float | None, ...]
    role: Role = "student"

    def __post_init__(self) -> None:
        # NaN and infinities from a student's function would make the JSON report invalid.
        object.__setattr__(self, "y", finite_or_none(self.y))


@dataclass(frozen=True)
class Marker:
    """A point marked on a figure, such as a minimum of one of its curves."""

    label: str
    x: float
    y: float
    role: Role = "student"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.x) and math.isfinite(self.y)):
            raise ValueError(f"a marker needs finite coordinates, not ({self.x}, {self.y})")
        object.__setattr__(self, "x", float(self.x))
        object.__setattr__(self, "y", float(self.y))


@dataclass(frozen=True)
class Figure:
    """A plot for the feedback page: the student's curves over the reference's, plain numbers only.

    ``notes`` say what could not be drawn (a function that raised, timed out
    or returned the wrong shape); they are student-derived text.
    """

    title: str
    x: tuple[float, ...]
    series: tuple[Series, ...] = ()
    markers: tuple[Marker, ...] = ()
    notes: tuple[str, ...] = ()
    xlabel: str = "x"
    ylabel: str = ""

    def __post_init__(self) -> None:
        x = tuple(float(v) for v in self.x)
        if not all(math.isfinite(v) for v in x):
            raise ValueError("a figure's x values must be finite")
        object.__setattr__(self, "x", x)


def finite_or_none(values: Iterable[Any]) -> tuple[float | None, ...]:
    """``values`` as floats, with anything that is not a finite number as ``None`` (JSON's null)."""
    out: list[float | None] = []
    for value in values:
        try:
            number = float(value) if value is not None and not isinstance(value, (bool, str)) else math.nan
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        out.append(number if math.isfinite(number) else None)
    return tuple(out)


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
    figures: tuple[Figure, ...] = ()

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
        data: dict[str, Any] = plain_data(self)
        data["score"] = self.score
        data["max_score"] = self.max_score
        return data


def plain_data(value: Any) -> Any:
    """What :func:`dataclasses.asdict` makes of the model's values, without its deep copy of every number.

    A grade holds hundreds of test results and figures of thousands of numbers:
    ``asdict`` took 17 ms over one, this a few.
    """
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_data(getattr(value, f.name)) for f in fields(value)}
    if type(value) is tuple or type(value) is list:
        if all(type(v) in _ATOMS for v in value):
            return value if type(value) is tuple else list(value)  # a tuple of numbers is shared, not copied
        return type(value)(plain_data(v) for v in value)
    if type(value) is dict:
        return {k: plain_data(v) for k, v in value.items()}
    return value


_ATOMS = frozenset({str, int, float, bool, type(None)})


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
        figures=tuple(_figure_from_dict(f) for f in data.get("figures", ())),
    )


def _figure_from_dict(data: dict[str, Any]) -> Figure:
    """A :class:`Figure` from its ``to_dict`` form; non-finite numbers become ``None`` or are dropped."""
    # A point whose x is not a finite number is dropped from every series.
    xs = finite_or_none(data.get("x", ()))
    keep = [i for i, v in enumerate(xs) if v is not None]
    x = tuple(float(xs[i] or 0.0) for i in keep)
    markers = []
    for m in data.get("markers", ()):
        mx, my = finite_or_none((m.get("x"), m.get("y")))
        if mx is not None and my is not None:
            markers.append(Marker(str(m.get("label", "")), mx, my, _role(m.get("role"))))
    return Figure(
        title=str(data.get("title", "")),
        x=x,
        series=tuple(Series(str(s.get("label", "")), _pick(list(s.get("y", ())), keep), _role(s.get("role")))
                     for s in data.get("series", ())),
        markers=tuple(markers),
        notes=tuple(str(n) for n in data.get("notes", ())),
        xlabel=str(data.get("xlabel", "x")),
        ylabel=str(data.get("ylabel", "")),
    )


def _pick(values: list[Any], keep: list[int]) -> tuple[float | None, ...]:
    return finite_or_none(values[i] if i < len(values) else None for i in keep)


def _role(value: Any) -> Role:
    return "reference" if value == "reference" else "student"

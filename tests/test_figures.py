"""Figures: the manifest's ``[[figures]]``, building them through a fake worker, and the model's plain numbers."""

from __future__ import annotations

import json
import math
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sympy
import torch

from grader.assignment import FigureSpec, load_assignment
from grader.errors import CallTimeout, InputError, SandboxError, StudentException, WorkerDied
from grader.figures import build_figures
from grader.model import Figure, Grade, Marker, Series, grade_from_dict
from grader.proxy import Submission
from grader.reports.json_report import grade_to_json

from .conftest import REPO


def f(x: torch.Tensor) -> torch.Tensor:
    return x * torch.cos(math.pi * x)


def g(x: torch.Tensor) -> torch.Tensor:
    return f(x) + 0.2 * torch.cos(5 * math.pi * x)


class FakeWorker:
    """Serves calls from plain Python functions, as the worker session would; counts them."""

    def __init__(self, functions: dict[str, Callable[..., Any] | BaseException]) -> None:
        self.functions = functions
        self.calls: list[str] = []

    def call(self, name: str, args: Any = (), kwargs: Any = None, mode: str = "value") -> Any:
        self.calls.append(name)
        function = self.functions.get(name)
        if isinstance(function, BaseException):
            raise function
        if function is None:
            raise StudentException(f"`{name}` is missing")
        return function(*args)


RISK = FigureSpec("risk", ("f", "g"), (0.5, 1.5), points=101, minima="global")
LOCAL = FigureSpec("local", ("f",), (-1.0, 2.0), points=301, minima="local")
REFERENCE = types.SimpleNamespace(f=f, g=g)


def build(functions: dict[str, Any], *specs: FigureSpec, reference: Any = REFERENCE) -> tuple[Figure, ...]:
    return build_figures(specs, Submission(FakeWorker(functions)), reference)


# ------------------------------------------------------------------ the manifest


def write_manifest(tmp_path: Path, figures: str) -> Path:
    (tmp_path / "assignment.toml").write_text(f'name = "a"\n[questions.q1]\npoints = 1\n{figures}\n')
    return tmp_path


def test_manifest_figures_parsed(tmp_path: Path) -> None:
    root = write_manifest(tmp_path, '[[figures]]\ntitle = "T"\nfunctions = ["f", "g"]\ninterval = [-1, 2]\n'
                                    'minima = "local"\nreference = false\n[[figures]]\nfunctions = ["h"]\n'
                                    "interval = [0, 1.5]\npoints = 50\n")
    first, second = load_assignment(root).figures
    assert first == FigureSpec("T", ("f", "g"), (-1.0, 2.0), 200, "local", "", reference=False)
    assert second.functions == ("h",) and second.points == 50 and second.minima == "none" and second.reference


def test_no_figures_by_default(tmp_path: Path) -> None:
    assert load_assignment(write_manifest(tmp_path, "")).figures == ()


@pytest.mark.parametrize("entry, text", [
    ('[figures]\nfunctions = ["f"]', "array of tables"),
    ("[[figures]]\ninterval = [0, 1]", "'functions'"),
    ('[[figures]]\nfunctions = ["_private"]\ninterval = [0, 1]', "'functions'"),
    ('[[figures]]\nfunctions = ["f(x)"]\ninterval = [0, 1]', "'functions'"),
    ('[[figures]]\nfunctions = ["f"]\ninterval = [1, 0]', "lo < hi"),
    ('[[figures]]\nfunctions = ["f"]\ninterval = [0]', "'interval'"),
    ('[[figures]]\nfunctions = ["f"]\ninterval = [0, 1]\npoints = 1', "'points'"),
    ('[[figures]]\nfunctions = ["f"]\ninterval = [0, 1]\npoints = 10000000', "'points'"),
    ('[[figures]]\nfunctions = ["f"]\ninterval = [0, 1]\nminima = "all"', "'minima'"),
    ('[[figures]]\nfunctions = ["f"]\ninterval = [0, 1]\nreference = "yes"', "'reference'"),
])
def test_bad_figure_entries_are_input_errors(tmp_path: Path, entry: str, text: str) -> None:
    with pytest.raises(InputError, match=text):
        load_assignment(write_manifest(tmp_path, entry))


def test_the_assignment_has_the_chapters_figures() -> None:
    figures = load_assignment(REPO / "assignments" / "optimization_intro").figures
    assert [(s.functions, s.interval) for s in figures] == [(("f", "g"), (0.5, 1.5)), (("f",), (-1.0, 2.0))]


# ------------------------------------------------------------------ building figures


def test_correct_functions_match_the_reference_and_the_chapters_minima() -> None:
    risk, local = build({"f": f, "g": g}, RISK, LOCAL)
    assert [(s.label, s.role) for s in risk.series] == [
        ("f (reference)", "reference"), ("f (yours)", "student"),
        ("g (reference)", "reference"), ("g (yours)", "student")]
    assert risk.series[0].y == risk.series[1].y and len(risk.x) == 101 and risk.notes == ()
    by_label = {m.label: m for m in risk.markers}
    # ASSIGNMENT.md: g's minimum on [0.5, 1.5] is about (1.01698, -1.20846), f's about (1.09041, -1.04672).
    assert by_label["min of g (yours)"].x == pytest.approx(1.01698, abs=2e-3)
    assert by_label["min of g (yours)"].y == pytest.approx(-1.20846, abs=1e-3)
    assert by_label["min of f (reference)"].x == pytest.approx(1.09041, abs=2e-3)
    yours = sorted((m.x, m.label) for m in local.markers if m.role == "student")
    assert [label for _, label in yours] == ["local min of f (yours)", "global min of f (yours)"]
    assert [x for x, _ in yours] == pytest.approx([-0.27385, 1.09041], abs=2e-3)


def test_one_call_per_function_per_figure() -> None:
    worker = FakeWorker({"f": f, "g": g})
    build_figures((RISK, LOCAL), Submission(worker), REFERENCE)
    assert worker.calls == ["f", "g", "f"]


def test_a_wrong_function_is_drawn_apart_from_the_reference() -> None:
    (risk,) = build({"f": lambda x: x * torch.cos(3.0 * x), "g": g}, RISK)
    reference, yours = risk.series[0], risk.series[1]
    assert reference.role == "reference" and yours.role == "student"
    assert max(abs(a - b) for a, b in zip(reference.y, yours.y, strict=True) if a is not None and b is not None) > 0.1


@pytest.mark.parametrize("error", [StudentException("`f` raised NotImplementedError"),
                                   CallTimeout("`f` did not return within the call time limit (10 s)")])
def test_a_failing_call_leaves_the_series_out_with_a_note(error: Exception) -> None:
    (risk,) = build({"f": error, "g": g}, RISK)
    assert [s.label for s in risk.series] == ["f (reference)", "g (reference)", "g (yours)"]
    assert risk.notes == (f"your f is not drawn: {error}",)


@pytest.mark.parametrize("error", [CallTimeout("`f` timed out"), WorkerDied("the notebook's process crashed"),
                                   SandboxError("the worker did not start: no message")])
def test_after_a_time_out_or_a_crash_the_function_is_not_called_again(error: Exception) -> None:
    worker = FakeWorker({"f": error, "g": g})
    _, local = build_figures((RISK, LOCAL), Submission(worker), None)
    assert worker.calls == ["f", "g"]
    assert local.series == () and local.notes == (f"your f is not drawn: {error}",)


@pytest.mark.parametrize("result, text", [
    (lambda x: x[:3], "returned shape (3,)"),
    (lambda x: torch.zeros(2, 2), "returned shape (2, 2)"),
    (lambda x: "text", "not numbers"),
    (lambda x: x.to(torch.complex128), "complex"),
    (lambda x: x * math.nan, "no value on the interval is a finite number"),
    (lambda x: x.numpy().astype(complex), "complex"),
    # Never asked for its float, which would not return (sympy evaluates 10**10**999 first).
    (lambda x: sympy.sin(sympy.Pow(10, sympy.Integer(10) ** 999, evaluate=False), evaluate=False), "not numbers"),
    (lambda x: [10**3999] * len(x), "no value on the interval is a finite number"),  # float() overflows
])
def test_unusable_results_are_notes(result: Callable[..., Any], text: str) -> None:
    (risk,) = build({"f": result, "g": g}, RISK, reference=None)
    assert [s.label for s in risk.series] == ["g (yours)"]
    assert text in risk.notes[0]


def test_non_finite_values_become_gaps_and_json_stays_valid() -> None:
    def wild(x: torch.Tensor) -> torch.Tensor:
        y = f(x).clone()
        y[0], y[1], y[2] = math.nan, math.inf, -math.inf
        return y

    (risk,) = build({"f": wild, "g": g}, RISK)
    yours = risk.series[1]
    assert yours.y[:3] == (None, None, None) and all(v is not None for v in yours.y[3:])
    grade = Grade("a", "s", (), figures=(risk,))
    text = grade_to_json(grade)
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert grade_from_dict(data) == grade


def test_a_minimum_beside_a_huge_value_is_marked_without_overflow() -> None:
    def spike(x: torch.Tensor) -> torch.Tensor:
        y = torch.zeros_like(x)
        y[50], y[49] = -1.0, 1e200  # the parabola's vertex overflows: the grid point stands
        return y

    (risk,) = build({"f": spike, "g": g}, RISK, reference=None)
    assert (risk.markers[0].label, risk.markers[0].x, risk.markers[0].y) == ("min of f (yours)", risk.x[50], -1.0)


def test_lists_numpy_and_low_precision_results_are_accepted() -> None:
    functions = {"f": lambda x: f(x).tolist(), "g": lambda x: g(x).numpy(), "h": lambda x: x.to(torch.bfloat16)}
    spec = FigureSpec("risk", ("f", "g", "h"), (0.5, 1.5), points=101)
    (risk,) = build(functions, spec, reference=None)
    assert [s.label for s in risk.series] == ["f (yours)", "g (yours)", "h (yours)"] and risk.notes == ()


def test_a_broken_reference_is_a_note_not_a_failure() -> None:
    def broken(x: torch.Tensor) -> torch.Tensor:
        raise ZeroDivisionError("boom")

    (risk,) = build({"f": f, "g": g}, RISK, reference=types.SimpleNamespace(f=broken, g=g))
    assert "the reference f could not be drawn: ZeroDivisionError: boom" in risk.notes
    assert "f (yours)" in [s.label for s in risk.series]


def test_reference_false_draws_the_students_curves_only() -> None:
    spec = FigureSpec("risk", ("f",), (0.5, 1.5), minima="global", reference=False)
    (risk,) = build({"f": f}, spec)
    assert [s.role for s in risk.series] == ["student"] and [m.role for m in risk.markers] == ["student"]


def test_global_minimum_at_an_end_of_the_interval() -> None:
    spec = FigureSpec("line", ("f",), (0.0, 1.0), points=11, minima="global")
    (line,) = build({"f": lambda x: x}, spec, reference=None)
    assert line.markers == (Marker("min of f (yours)", 0.0, 0.0, "student"),)


# ------------------------------------------------------------------ the model


def test_model_keeps_plain_finite_numbers() -> None:
    series = Series("f", (1, math.nan, math.inf, None, 2.5))  # type: ignore[arg-type]
    assert series.y == (1.0, None, None, None, 2.5)
    with pytest.raises(ValueError):
        Marker("m", math.nan, 0.0)
    with pytest.raises(ValueError):
        Figure("t", (0.0, math.inf))


def test_old_json_without_figures_is_read() -> None:
    grade = grade_from_dict({"assignment": "a", "submission": "s", "questions": []})
    assert grade.figures == ()


def test_hand_edited_json_with_bad_numbers_is_read_safely() -> None:
    data = {"assignment": "a", "submission": "s", "questions": [], "figures": [{
        "title": "t", "x": [0, "x", 2, None], "series": [{"label": "f", "y": [1, 2, "3", None], "role": "evil"}],
        "markers": [{"label": "m", "x": None, "y": 1}, {"label": "ok", "x": 1, "y": 2, "role": "reference"}],
    }]}
    (figure,) = grade_from_dict(data).figures
    assert figure.x == (0.0, 2.0)
    assert figure.series == (Series("f", (1.0, None), "student"),)
    assert figure.markers == (Marker("ok", 1.0, 2.0, "reference"),)

"""Figures for the feedback page: the student's functions drawn over the reference's.

After the tests have run, each ``[[figures]]`` entry of the manifest becomes a
:class:`~grader.model.Figure`: every named function is called once, through
the :class:`~grader.proxy.Submission` proxy (so under the normal call time
limit, in the sandboxed worker), on a float64 grid of the figure's interval,
and once in the reference namespace when solutions are given (unless the
figure says ``reference = false``: an overlay shows the reference's values,
which for some functions are the answer itself). A call that
fails leaves its curve out with a note; it never fails the grade. A function
whose call timed out or killed the worker is not called again for later
figures: a restart replays the whole notebook.

Minima are read off the grid (no further calls): the lowest point, or each
strict local minimum, refined by the vertex of the parabola through the
neighbouring points.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from grader.assignment import FigureSpec
from grader.errors import CallTimeout, SandboxError, SubmissionError, WorkerDied
from grader.model import Figure, Marker, Series, finite_or_none
from grader.proxy import Submission

Values = tuple[float | None, ...]


def build_figures(specs: Sequence[FigureSpec], submission: Submission,
                  reference: types.SimpleNamespace | None = None) -> tuple[Figure, ...]:
    """One :class:`Figure` per spec, from the submission's (and the reference's) functions."""
    given_up: dict[str, str] = {}
    return tuple(_figure(spec, submission, reference, given_up) for spec in specs)


def _figure(spec: FigureSpec, submission: Submission, reference: types.SimpleNamespace | None,
            given_up: dict[str, str]) -> Figure:
    grid = torch.linspace(spec.interval[0], spec.interval[1], spec.points, dtype=torch.float64)
    x = tuple(float(v) for v in grid.tolist())
    series: list[Series] = []
    notes: list[str] = []
    for name in spec.functions:
        if reference is not None and spec.reference:
            function = getattr(reference, name, None)
            if callable(function):
                values, note = _values(function, grid)
                if values is not None:
                    series.append(Series(f"{name} (reference)", values, "reference"))
                elif note:
                    notes.append(f"the reference {name} could not be drawn: {note}")
        if name in given_up:
            notes.append(f"your {name} is not drawn: {given_up[name]}")
            continue
        try:
            values, note = _values(getattr(submission, name), grid)
        except (CallTimeout, WorkerDied, SandboxError) as exc:
            # A restart replays the whole notebook: one is enough. A worker that
            # cannot be restarted at all must not cost the grade the tests earned.
            given_up[name] = _first_line(str(exc))
            values, note = None, given_up[name]
        except SubmissionError as exc:
            values, note = None, _first_line(str(exc))
        if values is not None:
            series.append(Series(f"{name} (yours)", values, "student"))
        else:
            notes.append(f"your {name} is not drawn: {note}")
    markers = [m for s in series for m in _minima(spec, x, s)]
    return Figure(spec.title, x, tuple(series), tuple(markers), tuple(notes), "x", spec.ylabel)


def _values(function: Callable[[torch.Tensor], Any], grid: torch.Tensor) -> tuple[Values | None, str]:
    """``function`` on the grid as plain floats, or ``None`` and why not.

    The proxy's errors (SubmissionError, SandboxError) propagate; anything
    else raised (the reference's own code) becomes a note.
    """
    try:
        result = function(grid.clone())
    except (SubmissionError, SandboxError):
        raise
    except Exception as exc:  # noqa: BLE001 - the reference's failure is a note, not a failed grade
        return None, f"{type(exc).__name__}: {_first_line(str(exc))}"
    array = _floats(result)
    if isinstance(array, str):
        return None, array
    if array.shape != tuple(grid.shape):
        return None, f"for an input of shape {tuple(grid.shape)} it returned shape {array.shape}"
    values = finite_or_none(array.tolist())
    if all(v is None for v in values):
        return None, "no value on the interval is a finite number"
    return values, ""


def _floats(result: Any) -> np.ndarray[Any, np.dtype[np.float64]] | str:
    """A function's result as float64 values, or why it is not numbers.

    Only numbers are converted: a student's value of another type (a sympy
    expression arrives as one) is never asked for its ``float``, which may
    not return; an integer too large for a float is infinite.
    """
    if isinstance(result, torch.Tensor):
        if result.is_complex():
            return "it returned complex numbers"
        return result.detach().to("cpu", torch.float64).numpy()  # bfloat16 has no numpy dtype
    if isinstance(result, np.ndarray) and result.dtype.kind in "biuf":
        return result.astype(np.float64)
    if isinstance(result, (list, tuple)) and all(isinstance(v, (int, float, np.integer, np.floating)) for v in result):
        return np.array([_float(v) for v in result], dtype=np.float64)
    if isinstance(result, np.ndarray) and result.dtype.kind == "c":
        return "it returned complex numbers"
    return f"it returned {type(result).__name__}, not numbers"


def _float(value: int | float | np.integer[Any] | np.floating[Any]) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _minima(spec: FigureSpec, x: tuple[float, ...], series: Series) -> list[Marker]:
    """The markers of one curve's minima on the grid, as the spec asks."""
    if spec.minima == "none":
        return []
    y = series.y
    finite = {i: v for i, v in enumerate(y) if v is not None}
    if not finite:
        return []
    name = series.label.split(" ")[0]
    whose = "reference" if series.role == "reference" else "yours"
    lowest = min(finite, key=finite.__getitem__)
    if spec.minima == "global":
        mx, my = _refine(x, y, lowest)
        return [Marker(f"min of {name} ({whose})", mx, my, series.role)]
    inf = math.inf  # beside a gap (a missing value) no minimum can be told
    interior = [i for i, v in finite.items()
                if 0 < i < len(y) - 1 and v < finite.get(i - 1, -inf) and v < finite.get(i + 1, -inf)]
    markers = []
    for i in interior:
        mx, my = _refine(x, y, i)
        kind = "global" if i == lowest else "local"
        markers.append(Marker(f"{kind} min of {name} ({whose})", mx, my, series.role))
    return markers


def _refine(x: tuple[float, ...], y: Values, i: int) -> tuple[float, float]:
    """The vertex of the parabola through points ``i - 1, i, i + 1``, or point ``i`` itself."""
    xi, yi = x[i], y[i]
    assert yi is not None
    if 0 < i < len(y) - 1:
        y0, y2 = y[i - 1], y[i + 1]
        if y0 is not None and y2 is not None:
            h = x[i + 1] - x[i]
            curvature = y0 - 2 * yi + y2
            if curvature > 0:
                shift = 0.5 * h * (y0 - y2) / curvature
                vx = xi + shift
                vy = yi - (y0 - y2) * (y0 - y2) / (8 * curvature)  # overflows to inf, where ** raises
                if abs(shift) <= h and math.isfinite(vx) and math.isfinite(vy):
                    return vx, vy
    return xi, yi


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"

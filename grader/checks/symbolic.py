"""Exact answers from sympy for test authors: values, derivatives, Hessians, minima, descent paths.

Every helper takes a sympy expression (usually a spec's ``.expr`` and
``.variables``) and the very tensor the test sends to the submission, and
evaluates at the tensor's own entries (a float32 entry is an exact float64
number), with mpmath at :data:`DIGITS` significant digits. The answers come
back as float64 tensors or floats, exact to the last bit that float64 can
hold, so a test's tolerance only has to cover the submission's own rounding.

Minima: :func:`critical_points` scans the exact derivative on a dense grid
for sign changes and refines each one at :data:`DIGITS` digits (mpmath's
``findroot``, as ``sympy.nsolve`` does); :func:`local_minima` keeps those where the second
derivative is positive, :func:`global_minimum` compares them with the two
ends. The scan relies on the assignment's guarantees (critical points well
apart and non-degenerate); :func:`contract_violations` tells whether a test
function meets them, so that generated functions can be checked before use.

Pure functions of their arguments; the slow sympy steps (differentiation,
compiling an expression, the derivative scan) are memoised, since a test
module asks about one function several times.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
import sympy
import torch

DIGITS = 50
"""Significant digits of every exact evaluation."""

SCAN_STEP = 1e-4
"""The grid spacing of the derivative scan: far below the 0.01 between graded minima."""

_NUMPY_EXTRAS: dict[str, Any] = {"erf": np.vectorize(math.erf, otypes=[float])}


def _mp(expr: sympy.Expr, variables: Sequence[sympy.Symbol]) -> Callable[..., Any]:
    """``expr`` as an mpmath function of ``variables`` (call it inside ``mpmath.workdps``)."""
    return _compiled(expr, tuple(variables))


@functools.lru_cache(maxsize=1024)
def _compiled(expr: sympy.Expr, variables: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    # Memoised: lambdify prints and compiles source, the slowest step of a check.
    return sympy.lambdify(list(variables), expr, modules="mpmath")  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1024)
def _diff(expr: sympy.Expr, var: sympy.Symbol, order: int = 1) -> sympy.Expr:
    # Memoised: sympy's differentiation (its assumptions system) is slow on trigonometric mixes.
    if order <= 1:
        return sympy.diff(expr, var, order)
    return sympy.diff(_diff(expr, var, order - 1), var)


def _entries(x: torch.Tensor) -> list[float]:
    """The tensor's entries as exact Python floats, in row-major order."""
    return [float(v) for v in x.detach().to(torch.float64).flatten().tolist()]


def _as_float(value: Any) -> float:
    """An mpmath or sympy real as a float; ValueError if it is not real."""
    number = complex(value)
    if number.imag != 0:
        raise ValueError(f"expected a real value, got {value}")
    return number.real


def values(expr: sympy.Expr, var: sympy.Symbol, x: torch.Tensor) -> torch.Tensor:
    """The exact values of ``expr`` at every entry of ``x``: float64, ``x``'s shape."""
    fn = _mp(expr, [var])
    with mpmath.workdps(DIGITS):
        out = [_as_float(fn(mpmath.mpf(v))) for v in _entries(x)]
    return torch.tensor(out, dtype=torch.float64).reshape(x.shape)


def derivative_values(expr: sympy.Expr, var: sympy.Symbol, x: torch.Tensor, order: int = 1) -> torch.Tensor:
    """The exact ``order``-th derivative of ``expr`` at every entry of ``x``: float64, ``x``'s shape."""
    return values(_diff(expr, var, order), var, x)


def value_at(expr: sympy.Expr, variables: Sequence[sympy.Symbol], point: torch.Tensor | Sequence[float]) -> float:
    """The exact value of ``expr`` at ``point`` (one entry per variable)."""
    coords = _entries(torch.as_tensor(point, dtype=torch.float64))
    with mpmath.workdps(DIGITS):
        return _as_float(_mp(expr, variables)(*map(mpmath.mpf, coords)))


def gradient_at(expr: sympy.Expr, variables: Sequence[sympy.Symbol], point: torch.Tensor) -> torch.Tensor:
    """The exact gradient of ``expr`` at ``point``: float64, shape ``(k,)``."""
    grad = [_diff(expr, v) for v in variables]
    fn = _mp(sympy.ImmutableMatrix(grad), variables)
    with mpmath.workdps(DIGITS):
        g = fn(*map(mpmath.mpf, _entries(point)))
        out = [_as_float(g[i]) for i in range(len(grad))]
    return torch.tensor(out, dtype=torch.float64)


def hessian_at(expr: sympy.Expr, variables: Sequence[sympy.Symbol], point: torch.Tensor) -> torch.Tensor:
    """The exact Hessian (``sympy.hessian``) of ``expr`` at ``point``: float64, shape ``(k, k)``."""
    k = len(variables)
    fn = _compiled_hessian(expr, tuple(variables))
    with mpmath.workdps(DIGITS):
        h = fn(*map(mpmath.mpf, _entries(point)))
        out = [[_as_float(h[i, j]) for j in range(k)] for i in range(k)]
    return torch.tensor(out, dtype=torch.float64).reshape(k, k)


@functools.lru_cache(maxsize=256)
def _compiled_hessian(expr: sympy.Expr, variables: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    # Memoised: a test checks one function's Hessian at several points.
    return _mp(sympy.ImmutableMatrix(sympy.hessian(expr, list(variables))), variables)


def descent_path(expr: sympy.Expr, variables: Sequence[sympy.Symbol], x0: torch.Tensor, lr: float,
                 num_steps: int) -> torch.Tensor:
    """The exact trajectory of ``x[t+1] = x[t] - lr * grad expr(x[t])`` from ``x0``.

    ``x0`` holds one entry per variable (0-d for one variable); the result is
    float64 of shape ``(num_steps + 1, *x0.shape)``, row 0 is ``x0``. Every
    step is computed at :data:`DIGITS` digits from the exact ``x0`` and ``lr``.
    """
    grad = _mp(sympy.ImmutableMatrix([_diff(expr, v) for v in variables]), variables)
    k = len(variables)
    rows: list[list[float]] = []
    with mpmath.workdps(DIGITS):
        x = [mpmath.mpf(v) for v in _entries(x0)]
        step = mpmath.mpf(float(lr))
        rows.append([float(v) for v in x])
        for _ in range(num_steps):
            g = grad(*x)
            x = [x[i] - step * g[i] for i in range(k)]
            rows.append([_as_float(v) for v in x])
    return torch.tensor(rows, dtype=torch.float64).reshape(num_steps + 1, *x0.shape)


def critical_points(expr: sympy.Expr, var: sympy.Symbol, lo: float, hi: float) -> list[float]:
    """Every zero of the derivative of ``expr`` where it changes sign in ``[lo, hi]``, ascending.

    A dense scan (spacing at most :data:`SCAN_STEP`) of the exact derivative
    finds the sign changes; each is refined at :data:`DIGITS` digits by
    mpmath's ``findroot`` (the solver behind ``sympy.nsolve``, called directly
    so that the derivative is compiled once, not once per root). A zero
    where the derivative only touches zero is found only if it lies on the
    grid (it is never a minimum).
    """
    return list(_critical_points(expr, var, float(lo), float(hi)))


@functools.lru_cache(maxsize=256)
def _critical_points(expr: sympy.Expr, var: sympy.Symbol, lo: float, hi: float) -> tuple[float, ...]:
    # Memoised: checking a test function, its minima and its global minimum share one scan.
    d1 = _diff(expr, var)
    n = max(20001, math.ceil((hi - lo) / SCAN_STEP) + 1)
    grid = np.linspace(lo, hi, n)
    scan = sympy.lambdify(var, d1, modules=[_NUMPY_EXTRAS, "numpy"])
    signs = np.sign(np.broadcast_to(np.asarray(scan(grid), dtype=float), grid.shape))
    exact = _mp(d1, [var])
    starts: list[Any] = [float(grid[i]) for i in np.flatnonzero(signs == 0)]
    starts += [(float(grid[i]), float(grid[i + 1])) for i in np.flatnonzero(signs[:-1] * signs[1:] < 0)]
    with mpmath.workdps(DIGITS):
        roots = sorted(_as_float(_refine(exact, start)) for start in starts)
    distinct: list[float] = []
    for root in roots:
        if not distinct or root - distinct[-1] > 1e-12 * max(1.0, abs(root)):
            distinct.append(root)
    return tuple(distinct)


def _refine(d1: Callable[..., Any], start: float | tuple[float, float]) -> Any:
    """A zero of ``d1`` at the working precision, inside a sign-change bracket or from a zero on the grid."""
    if isinstance(start, tuple):
        return mpmath.findroot(d1, tuple(map(mpmath.mpf, start)), solver="anderson")
    return mpmath.findroot(d1, mpmath.mpf(start))


def local_minima(expr: sympy.Expr, var: sympy.Symbol, lo: float, hi: float) -> list[float]:
    """The strict local minimisers of ``expr`` in the open interval ``(lo, hi)``, ascending.

    The critical points strictly inside where the exact second derivative is
    positive (so degenerate minima, outside the assignment's contract, are
    not reported).
    """
    d2 = _mp(_diff(expr, var, 2), [var])
    with mpmath.workdps(DIGITS):
        return [c for c in critical_points(expr, var, lo, hi) if lo < c < hi and d2(mpmath.mpf(c)) > 0]


def minimum_candidates(expr: sympy.Expr, var: sympy.Symbol, lo: float, hi: float) -> list[tuple[float, float]]:
    """``(x, expr(x))`` for the left end, every local minimiser and the right end, in that order."""
    fn = _mp(expr, [var])
    points = [float(lo), *local_minima(expr, var, lo, hi), float(hi)]
    with mpmath.workdps(DIGITS):
        return [(x, _as_float(fn(mpmath.mpf(x)))) for x in points]


def global_minimum(expr: sympy.Expr, var: sympy.Symbol, lo: float, hi: float) -> tuple[float, float]:
    """``(x_star, expr(x_star))``: the minimum of ``expr`` over the closed interval ``[lo, hi]``."""
    return min(minimum_candidates(expr, var, lo, hi), key=lambda candidate: candidate[1])


def contract_violations(expr: sympy.Expr, var: sympy.Symbol, lo: float, hi: float, *, separation: float = 0.01,
                        curvature: float = 0.1) -> list[str]:
    """How ``expr`` on ``[lo, hi]`` breaks the assignment's guarantees about minima; empty if it meets them.

    Checked for every critical point (minima and maxima alike, which also
    keeps the derivative scan of :func:`critical_points` safe): at least
    ``separation`` from each other and from the ends, ``|f''|`` at least
    ``curvature``.
    """
    d2 = _mp(_diff(expr, var, 2), [var])
    points = critical_points(expr, var, lo, hi)
    problems = [f"critical point {c:.6g} is within {separation} of an end" for c in points
                if min(c - lo, hi - c) < separation]
    problems += [f"critical points {a:.6g} and {b:.6g} are closer than {separation}"
                 for a, b in itertools.pairwise(points) if b - a < separation]
    with mpmath.workdps(DIGITS):
        problems += [f"|f''({c:.6g})| is below {curvature}" for c in points if abs(d2(mpmath.mpf(c))) < curvature]
    return problems

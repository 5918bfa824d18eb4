"""Hidden tests for q4: classifying a critical point from its Hessian's eigenvalues.

The chapter's cases (Hessians from ``sympy.hessian``, exact), and symmetric
matrices ``Q diag(lam) Q^T`` with a chosen spectrum and a seeded random
rotation ``Q``: every sign pattern, zero eigenvalues, eigenvalues at
``+-tol/2`` (degenerate) and at ``+-2 tol``, and a ``tol`` argument other than
the default, in float64 and float32. The expected label follows from the
chosen spectrum by the contract's rule; each spectrum keeps every eigenvalue
at least a factor 2 away from ``+-tol``, far beyond the rounding of the
matrix and of any eigenvalue solver (about 1e-16 of the largest eigenvalue in
float64, 1e-6 in float32; float32 cases near ``tol`` use a ``tol`` of 1e-3).
The contract's inequalities are strict (``lam > tol``, ``lam < -tol``): that
is tested apart, on 2x2 diagonal matrices with an eigenvalue exactly at
``+-tol``, where every eigenvalue method is exact (see ``AT_TOL``).
"""

from __future__ import annotations

import functools

import pytest
import sympy
import torch

from grader.checks import symbolic
from grader.errors import CheckFailure
from grader.specs import Vector

pytestmark = pytest.mark.question(
    "q4", part="classify_critical_point",
    hint="classify_critical_point: saddle if eigenvalues > tol and < -tol; else minimum / maximum / degenerate")

LABELS = ("minimum", "maximum", "saddle", "degenerate")
x, y = sympy.symbols("x y")
per_dtype = pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])


def label(spectrum: tuple[float, ...], tol: float) -> str:
    """The contract's rule, applied to the chosen eigenvalues."""
    positive = [lam > tol for lam in spectrum]
    negative = [lam < -tol for lam in spectrum]
    if any(positive) and any(negative):
        return "saddle"
    if all(positive):
        return "minimum"
    if all(negative):
        return "maximum"
    return "degenerate"


def check_label(got: object, want: str, what: str) -> None:
    """One of the four labels, and the right one."""
    if got not in LABELS:
        raise CheckFailure(f"{what} should be one of {', '.join(map(repr, LABELS))}, got {got!r:.40}")
    if got != want:
        raise CheckFailure(f"{what}: {got!r} is not the right classification")


# name -> (expression, variables, point): the chapter's examples, all at the origin.
CHAPTER = {
    "saddle_x2_minus_y2": (x**2 - y**2, (x, y), (0.0, 0.0), "saddle"),
    "cubic_at_zero": (x**3, (x,), (0.0,), "degenerate"),
    "quartic_at_zero": (x**4 + y**4, (x, y), (0.0, 0.0), "degenerate"),
    "bowl": (x**2 + y**2, (x, y), (0.0, 0.0), "minimum"),
    "cap": (-(x**2 + y**2), (x, y), (0.0, 0.0), "maximum"),
    "cubic_away_from_zero": (x**3, (x,), (1.0,), "minimum"),
    "cos_cos_at_pi": (sympy.cos(x) + sympy.cos(y), (x, y), (3.0, 3.0), "minimum"),
    "sin_sin": (sympy.sin(x) * sympy.sin(y), (x, y), (0.0, 0.0), "saddle"),
}


@per_dtype
@pytest.mark.parametrize("name", list(CHAPTER))
def test_chapter_hessians(submission, name, dtype):
    expr, variables, where, want = CHAPTER[name]
    hessian = symbolic.hessian_at(expr, variables, torch.tensor(where, dtype=torch.float64)).to(dtype)
    check_label(submission.classify_critical_point(hessian), want, f"classify_critical_point [{name}]")


# name -> (spectrum, tol or None for the default 1e-6)
SPECTRA: dict[str, tuple[tuple[float, ...], float | None]] = {
    "all_positive": ((0.5, 1.0, 3.0), None),
    "all_negative": ((-2.0, -0.25, -1.0, -5.0), None),
    "mixed": ((1.0, -1.0), None),
    "mixed_with_zero": ((2.0, 0.0, -0.5), None),
    "mixed_with_two_zeros": ((0.0, 1.5, 0.0, -3.0), None),
    "positive_with_zero": ((1.0, 0.0, 2.0), None),
    "negative_with_zero": ((-1.0, -4.0, 0.0), None),
    "all_zero": ((0.0, 0.0, 0.0), None),
    "one_by_one_positive": ((0.7,), None),
    "one_by_one_negative": ((-0.7,), None),
    "five_by_five_mixed": ((1.0, 2.0, 3.0, 4.0, -1e-3), None),
    "positive_and_half_tol": ((1.0, 2.0, 5e-7), None),
    "positive_and_minus_half_tol": ((1.0, 2.0, -5e-7), None),
    "negative_and_half_tol": ((-1.0, 5e-7), None),
    "plus_minus_half_tol": ((5e-7, -5e-7), None),
    "positive_and_minus_two_tol": ((1.0, -2e-6), None),
    "negative_and_two_tol": ((-3.0, -1.0, 2e-6), None),
    "small_but_beyond_tol": ((2e-6, 3e-6), None),
    "custom_tol_degenerate": ((1.0, 0.05), 0.1),
    "custom_tol_not_a_saddle": ((1.0, -0.05), 0.1),
    "custom_tol_minimum": ((1.0, 1e-9), 1e-12),
    "custom_tol_saddle": ((1.0, -1e-9), 1e-12),
    "custom_tol_maximum": ((-0.3, -0.2), 0.1),
}
# float32 cases: the near-tol ones use tol = 1e-3 (float32 rounding of the
# matrix alone moves its eigenvalues by ~1e-7 of the largest).
SPECTRA32: dict[str, tuple[tuple[float, ...], float | None]] = {
    **{name: case for name, case in SPECTRA.items() if all(abs(lam) >= 0.1 for lam in case[0])},
    "zero_with_tol_1e-3": ((1.0, 0.0, 2.0), 1e-3),
    "mixed_zero_with_tol_1e-3": ((1.0, 0.0, -2.0), 1e-3),
    "half_tol_1e-3": ((1.0, -5e-4, 2.0), 1e-3),
    "two_tol_1e-3": ((-1.0, 2e-3, -2.0), 1e-3),
}


@functools.cache
def rotation(n: int, seed: int) -> torch.Tensor:
    """A seeded random orthogonal matrix (QR of a Gaussian matrix), float64."""
    gen = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def matrix(spectrum: tuple[float, ...], seed: int, dtype: torch.dtype) -> torch.Tensor:
    """``Q diag(spectrum) Q^T``, exactly symmetric, in ``dtype``."""
    q = rotation(len(spectrum), seed)
    h = q @ torch.diag(torch.tensor(spectrum, dtype=torch.float64)) @ q.T
    return ((h + h.T) / 2).to(dtype)


def classify(submission, h: torch.Tensor, tol: float | None) -> object:
    return submission.classify_critical_point(h) if tol is None else submission.classify_critical_point(h, tol=tol)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", list(SPECTRA))
def test_chosen_spectrum_float64(submission, name, seed):
    spectrum, tol = SPECTRA[name]
    got = classify(submission, matrix(spectrum, seed, torch.float64), tol)
    check_label(got, label(spectrum, 1e-6 if tol is None else tol), f"classify_critical_point [{name}]")


@pytest.mark.parametrize("name", list(SPECTRA32))
def test_chosen_spectrum_float32(submission, name):
    spectrum, tol = SPECTRA32[name]
    got = classify(submission, matrix(spectrum, 3, torch.float32), tol)
    check_label(got, label(spectrum, 1e-6 if tol is None else tol), f"classify_critical_point, float32 [{name}]")


def test_tol_passed_by_position(submission):
    spectrum = (1.0, 0.05)
    got = submission.classify_critical_point(matrix(spectrum, 4, torch.float64), 0.1)
    check_label(got, "degenerate", "classify_critical_point(H, 0.1)")


@pytest.mark.parametrize("name", ["positive_and_half_tol", "mixed_with_zero"])
def test_diagonal_matrix(submission, name):
    spectrum, _ = SPECTRA[name]
    got = submission.classify_critical_point(torch.diag(torch.tensor(spectrum, dtype=torch.float64)))
    check_label(got, label(spectrum, 1e-6), f"classify_critical_point of a diagonal matrix [{name}]")


# name -> (diagonal, tol or None for the default 1e-6): an eigenvalue exactly at
# +-tol is not beyond it, so each of these is degenerate. The eigenvalues of
# these diagonal matrices come out exactly whatever the method: LAPACK's
# symmetric and general solvers leave a diagonal matrix as it is, and the 2x2
# closed forms are exact too: (tr +- sqrt(tr**2 - 4 det)) / 2 gives
# (2.5 +- 1.5) / 2, (1.5 +- 2.5) / 2, (-2.5 +- 1.5) / 2 and (2e-6 +- 0) / 2
# (tr**2 = 4 * det to the last bit: both are 4 * fl(1e-6 * 1e-6)), and
# (a + c) / 2 +- sqrt(((a - c) / 2)**2 + b**2) gives the same. (A small
# eigenvalue beside a large one, say diag(1e-6, 2), would not be exact by
# the first closed form: it cancels to 9.9999999992e-07.)
AT_TOL: dict[str, tuple[tuple[float, ...], float | None]] = {
    "positive_and_tol": ((0.5, 2.0), 0.5),
    "positive_and_minus_tol": ((-0.5, 2.0), 0.5),
    "negative_and_minus_tol": ((-0.5, -2.0), 0.5),
    "both_at_the_default_tol": ((1e-6, 1e-6), None),
}


@pytest.mark.parametrize("name", list(AT_TOL))
def test_eigenvalue_exactly_at_tol(submission, name):
    """An eigenvalue equal to +-tol is neither > tol nor < -tol: such a point is degenerate."""
    diagonal, tol = AT_TOL[name]
    want = label(diagonal, 1e-6 if tol is None else tol)
    assert want == "degenerate"
    got = classify(submission, torch.diag(torch.tensor(diagonal, dtype=torch.float64)), tol)
    check_label(got, want, f"classify_critical_point with an eigenvalue exactly at +-tol [{name}] "
                           "(the contract's tests are lam > tol and lam < -tol, strict)")


def test_matrix_not_modified(submission):
    h = matrix((2.0, -1.0, 0.5), 5, torch.float64)
    got, (after,), _ = submission.classify_critical_point.with_args(h.clone())
    check_label(got, "saddle", "classify_critical_point")
    if not (isinstance(after, torch.Tensor) and torch.equal(after, h)):
        raise CheckFailure("classify_critical_point modified H in place")


@pytest.mark.parametrize("where", [(0.0, 0.0), (3.0, 3.0), (0.0, 3.0)], ids=["max", "min", "saddle"])
def test_hessian_from_autograd(submission, where):
    """Hessians of cos(x) + cos(y) computed by autograd in float32, rounding noise included."""
    expr = sympy.cos(x) + sympy.cos(y)
    point = torch.tensor(where, dtype=torch.float32)
    h = torch.autograd.functional.hessian(Vector(expr, (x, y)), point)
    exact = symbolic.hessian_at(expr, (x, y), point)
    want = label(tuple(torch.linalg.eigvalsh(exact).tolist()), 1e-6)
    check_label(submission.classify_critical_point(h), want, "classify_critical_point of an autograd Hessian")

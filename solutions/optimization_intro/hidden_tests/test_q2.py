"""Hidden tests for q2: local minima and the global minimum, against sympy.

The chapter's risks on the chapter's intervals, fixed functions (polynomials,
trigonometric and other mixes, endpoint minima, no minimum at all) and
functions generated from fixed seeds (polynomials with chosen critical points,
random trigonometric mixes), which a student cannot hard-code. Every test
function is checked with sympy to meet the contract's guarantees, with room
to spare: its critical points (maxima too) are at least 0.05 apart and from
the ends, with ``|f''| >= 0.1``; for the global minimum, the best candidate
beats the next one by at least 1e-3. The ``NEAR_END`` cases put minima
between 0.01 (the contract's least distance) and 0.1 from the ends, 0.02 at
least, so that a search that skips a margin at the ends is caught. The expected minimisers are sympy's
(dense scan of the exact derivative, refined at 50 digits); the tolerance is
the contract's 1e-6.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from typing import Any

import pytest
import sympy
import torch

from grader.checks import symbolic
from grader.checks.numeric import assert_close, assert_number, assert_tensor
from grader.checks.oracle import Oracle
from grader.errors import CheckFailure
from grader.specs import Elementwise

X = sympy.Symbol("x")
PI = sympy.pi
RISK = X * sympy.cos(PI * X)
EMPIRICAL_RISK = RISK + sympy.Rational(1, 5) * sympy.cos(5 * PI * X)
TOL = 1e-6

LOCAL_MINIMA = pytest.mark.question(
    "q2", part="local_minima",
    hint="local_minima: every strict local minimiser in the open (lo, hi), ascending 1-D float64, each within 1e-6")
GLOBAL_MINIMUM = pytest.mark.question(
    "q2", part="global_minimum",
    hint="global_minimum: (x_star, fn(x_star)) over the closed [lo, hi], endpoints included, x_star within 1e-6")

# name -> (expression, lo, hi)
FIXED: dict[str, tuple[sympy.Expr, float, float]] = {
    "risk_chapter": (RISK, -1.0, 2.0),
    "risk_narrow": (RISK, 0.5, 1.5),
    "risk_wide": (RISK, -3.5, 3.5),
    "empirical_risk_chapter": (EMPIRICAL_RISK, 0.5, 1.5),
    "empirical_risk_wide": (EMPIRICAL_RISK, -0.9, 2.0),
    "double_well": ((X**2 - 1) ** 2, -2.0, 2.0),
    "parabola": (X**2 - X / 3, -1.0, 1.0),
    "gaussian_wave": (sympy.exp(-((X - sympy.Rational(1, 5)) ** 2)) * sympy.cos(3 * X), -2.0, 2.0),
    "log_sine": (sympy.log(2 + X**2) * sympy.sin(2 * X + 1), -3.0, 3.0),
    "tanh_erf": (sympy.tanh(3 * X) * X**2 - X / 2 + sympy.erf(X) / 3 + sympy.sin(4 * X) / 5, -2.0, 2.5),
    "atan_cos": (sympy.atan(X) * sympy.cos(2 * X) + X**2 / 10, -4.0, 4.0),
    "quartic_shifted": (X**4 - 3 * X**2 + X, -2.5, 2.5),
}
EMPTY: dict[str, tuple[sympy.Expr, float, float]] = {
    "increasing": (sympy.exp(X), 0.0, 1.0),
    "only_a_maximum": (-(X**2) + X / 10, -1.0, 1.0),
    "minimum_beyond_the_left_end": (X**2 - X, 0.6, 2.0),
    "decreasing_cubic": (-(X**3) - X, -1.5, 1.5),
}
ENDPOINT: dict[str, tuple[sympy.Expr, float, float]] = {
    "risk_right_end": (RISK, 0.0, 3.0),
    "cubic_left_end": (X**3 - 3 * X, -3.0, 3.0),
    "decreasing_right_end": (sympy.exp(-X), 0.0, 1.0),
    "maximum_inside": (-(X**2) + X / 10, -1.0, 1.0),
    "sine_left_end": (sympy.sin(3 * X) + X / 2, -2.2, 1.0),
}
# Minima 0.02 to 0.1 from an end (checked with separation 0.02, twice the
# contract's 0.01): the polynomial with slope 10 (x - 0.97)(x + 0.2)(x + 0.96)
# has minima at -0.96 and 0.97, the global one 0.03 from the right end;
# sin(3x) + x/2 has minima at -0.5794 and 1.5150, 0.031 and 0.055 from the
# ends, the global one at the left. Each global minimum beats the end beside
# it by 0.004 or more (the curvature there is 9 to 23).
NEAR_END_SLOPE = 10 * (X - sympy.Rational(97, 100)) * (X + sympy.Rational(1, 5)) * (X + sympy.Rational(24, 25))
NEAR_END: dict[str, tuple[sympy.Expr, float, float]] = {
    "polynomial_minima_near_both_ends": (sympy.expand(sympy.integrate(NEAR_END_SLOPE, X)), -1.0, 1.0),
    "sine_minima_near_both_ends": (sympy.sin(3 * X) + X / 2, -0.61, 1.57),
}
SEEDS = (11, 12, 13, 14)


def checked(expr: sympy.Expr, lo: float, hi: float, separation: float = 0.05) -> tuple[sympy.Expr, float, float]:
    """The case itself; RuntimeError if it breaks the guarantees (a bug in this file, not the student's)."""
    problems = symbolic.contract_violations(expr, X, lo, hi, separation=separation, curvature=0.1)
    if problems:
        raise RuntimeError(f"test function {expr} on ({lo}, {hi}) breaks the contract: {problems[0]}")
    return expr, lo, hi


def random_polynomial(seed: int) -> tuple[sympy.Expr, float, float]:
    """A polynomial with 2 to 4 chosen critical points, scaled so the flattest has |f''| = 1/2."""
    rng = random.Random(seed)
    while True:
        lo, hi = -rng.randint(10, 25) / 10, rng.randint(10, 25) / 10
        crit = sorted(sympy.Rational(rng.randint(round(lo * 100) + 10, round(hi * 100) - 10), 100)
                      for _ in range(rng.randint(2, 4)))
        if any(b - a < sympy.Rational(3, 10) for a, b in itertools.pairwise(crit)):
            continue
        slope = sympy.Mul(*(X - c for c in crit))
        flattest = min(abs(sympy.diff(slope, X).subs(X, c)) for c in crit)
        slope *= rng.choice([-1, 1]) * sympy.Rational(1, 2) / flattest
        expr = sympy.expand(sympy.integrate(slope, X) + rng.randint(-3, 3))
        if not symbolic.contract_violations(expr, X, lo, hi, separation=0.05, curvature=0.1):
            return expr, lo, hi


def random_trig_mix(seed: int) -> tuple[sympy.Expr, float, float]:
    """``sum a_j sin(w_j x + phi_j) + b x**2`` with seeded coefficients, redrawn until it meets the guarantees."""
    rng = random.Random(seed)
    while True:
        lo, hi = -rng.randint(5, 30) / 10, rng.randint(5, 30) / 10
        expr = sympy.Rational(rng.randint(0, 3), 10) * X**2
        for _ in range(rng.randint(2, 3)):
            amplitude = sympy.Rational(rng.choice([-1, 1]) * rng.randint(2, 15), 10)
            expr += amplitude * sympy.sin(rng.randint(1, 6) * X + sympy.Rational(rng.randint(0, 30), 10))
        if not symbolic.contract_violations(expr, X, lo, hi, separation=0.05, curvature=0.1):
            return expr, lo, hi


def generated(name: str) -> tuple[sympy.Expr, float, float]:
    """The test function and interval called ``name``, checked against the guarantees."""
    kind, _, seed = name.partition(":")
    if kind == "polynomial":
        return random_polynomial(int(seed))
    if kind == "trig_mix":
        return random_trig_mix(int(seed))
    if name in NEAR_END:
        return checked(*NEAR_END[name], separation=0.02)
    return checked(*{**FIXED, **EMPTY, **ENDPOINT}[name])


def exact_answers(name: str) -> dict[str, Any]:
    """The case (as ``srepr``) and sympy's answers: the local minimisers and the global minimum.

    ``global`` is None when the runner-up is within 1e-3 of the best candidate
    (too close to a tie to grade).
    """
    expr, lo, hi = generated(name)
    candidates = sorted(symbolic.minimum_candidates(expr, X, lo, hi), key=lambda c: c[1])
    tie = candidates[1][1] - candidates[0][1] < 1e-3
    return {"expr": sympy.srepr(expr), "lo": lo, "hi": hi, "minima": symbolic.local_minima(expr, X, lo, hi),
            "global": None if tie else list(candidates[0])}


RANDOM = [f"polynomial:{s}" for s in SEEDS] + [f"trig_mix:{s}" for s in SEEDS]
# Generating and checking the cases with sympy takes about a second: done when the assignment is authored.
EXACT = Oracle(__file__, "cases", exact_answers, [*FIXED, *EMPTY, *ENDPOINT, *NEAR_END, *RANDOM])


@functools.cache
def case(name: str) -> tuple[sympy.Expr, float, float]:
    """The test function and interval called ``name``."""
    answers = EXACT(name)
    return sympy.sympify(answers["expr"]), answers["lo"], answers["hi"]


def exact_minima(name: str) -> torch.Tensor:
    """sympy's local minimisers of the case, as a float64 tensor."""
    return torch.tensor(EXACT(name)["minima"], dtype=torch.float64)


def exact_global(name: str) -> tuple[float, float]:
    """sympy's global minimum of the case; RuntimeError if the runner-up is within 1e-3 of it."""
    found = EXACT(name)["global"]
    if found is None:
        raise RuntimeError(f"the global minimum of {name} is too close to a tie")
    return found[0], found[1]




def check_minima(got: object, want: torch.Tensor, what: str) -> None:
    """A 1-D float64 tensor, ascending, with the right minimisers within the contract's 1e-6."""
    value = assert_tensor(got, what, dtype=torch.float64)
    if value.dim() != 1:
        raise CheckFailure(f"{what} should be a 1-D tensor, got shape {tuple(value.shape)}")
    if value.numel() > 1 and not bool((value[1:] > value[:-1]).all()):
        raise CheckFailure(f"{what} should be strictly ascending")
    if value.numel() != want.numel():
        raise CheckFailure(f"{what} has {value.numel()} minimisers; that is not how many there are")
    assert_close(value, want, what, rtol=0.0, atol=TOL)


@LOCAL_MINIMA
@pytest.mark.parametrize("name", [*FIXED, *NEAR_END, *RANDOM])
def test_local_minima(submission, name):
    expr, lo, hi = case(name)
    got = submission.local_minima(Elementwise(expr, X), lo, hi)
    check_minima(got, exact_minima(name), f"local_minima on ({lo:g}, {hi:g}) [{name}]")


@LOCAL_MINIMA
def test_local_minima_integer_bounds(submission):
    got = submission.local_minima(Elementwise(RISK, X), -1, 2)
    check_minima(got, exact_minima("risk_chapter"), "local_minima(f, -1, 2) with int bounds")


@LOCAL_MINIMA
@pytest.mark.parametrize("name", list(EMPTY))
def test_local_minima_none(submission, name):
    expr, lo, hi = case(name)
    assert exact_minima(name).numel() == 0
    got = submission.local_minima(Elementwise(expr, X), lo, hi)
    value = assert_tensor(got, f"local_minima on ({lo:g}, {hi:g}) [{name}]", dtype=torch.float64)
    if value.shape != (0,):
        raise CheckFailure(f"local_minima on ({lo:g}, {hi:g}) [{name}] should be empty (shape (0,)): "
                           "a minimum at an end is not in the open interval, a maximum is not a minimum")


def check_global(got: object, want: tuple[float, float], what: str) -> None:
    """A pair of real numbers: the minimiser within 1e-6, the minimum within 1e-6."""
    if not (isinstance(got, tuple) and len(got) == 2):
        raise CheckFailure(f"{what} should return a tuple (x_star, fn(x_star)), got {type(got).__name__}")
    assert_number(got[0], want[0], f"x_star of {what}", tol=TOL)
    assert_number(got[1], want[1], f"fn(x_star) of {what}", tol=TOL)


@GLOBAL_MINIMUM
@pytest.mark.parametrize("name", ["risk_narrow", "empirical_risk_chapter", "risk_chapter", "empirical_risk_wide",
                                  "gaussian_wave", "log_sine", "atan_cos", "quartic_shifted", *ENDPOINT, *NEAR_END,
                                  *RANDOM])
def test_global_minimum(submission, name):
    expr, lo, hi = case(name)
    got = submission.global_minimum(Elementwise(expr, X), lo, hi)
    check_global(got, exact_global(name), f"global_minimum on [{lo:g}, {hi:g}] [{name}]")


@GLOBAL_MINIMUM
def test_global_minimisers_of_risk_and_empirical_risk_differ(submission):
    """The chapter's point: f and g on [0.5, 1.5] have different minimisers."""
    x_f, _ = submission.global_minimum(Elementwise(RISK, X), 0.5, 1.5)
    x_g, _ = submission.global_minimum(Elementwise(EMPIRICAL_RISK, X), 0.5, 1.5)
    assert_number(x_f, exact_global("risk_narrow")[0], "the minimiser of f on [0.5, 1.5]", tol=TOL)
    assert_number(x_g, exact_global("empirical_risk_chapter")[0], "the minimiser of g on [0.5, 1.5]", tol=TOL)
    assert not math.isclose(float(x_f), float(x_g), abs_tol=0.05)

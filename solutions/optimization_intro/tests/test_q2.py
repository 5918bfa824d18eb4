"""Public tests for q2: local minima and the global minimum, on the chapter's examples.

The expected values come from sympy (``grader.checks.symbolic``: the exact
derivative's zeros, refined to 50 digits), computed once and stored in
``test_q2.oracle.json`` beside this file. Functions are passed as
specifications built from sympy expressions; in your notebook they arrive as
ordinary differentiable torch functions. The hidden tests use many other
functions and intervals.
"""

import pytest
import sympy
import torch

from grader.checks import symbolic
from grader.checks.oracle import Oracle
from grader.specs import Elementwise

LOCAL_HINT = ("local_minima(fn, lo, hi): a 1-D float64 tensor, ascending, of every strict local minimiser "
              "inside the open interval (lo, hi), each within 1e-6")
GLOBAL_HINT = ("global_minimum(fn, lo, hi): (x_star, fn(x_star)) over the closed interval [lo, hi], "
               "endpoints included, x_star within 1e-6")

x = sympy.Symbol("x")
RISK = x * sympy.cos(sympy.pi * x)
EMPIRICAL_RISK = RISK + sympy.Rational(1, 5) * sympy.cos(5 * sympy.pi * x)
FUNCTIONS = {"f": RISK, "g": EMPIRICAL_RISK}


def exact(key):
    """sympy's answer for a key such as ``"local_minima f -1 2"``."""
    helper, name, lo, hi = key.split()
    return getattr(symbolic, helper)(FUNCTIONS[name], x, float(lo), float(hi))


EXACT = Oracle(__file__, "exact", exact, ["local_minima f -1 2", "local_minima g 0.5 1.5",
                                          "global_minimum f 0.5 1.5", "global_minimum g 0.5 1.5"])


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def expect_minima(got, want, what):
    expect(isinstance(got, torch.Tensor), f"{what} should be a torch.Tensor, got {type(got).__name__}")
    expect(got.dtype == torch.float64 and got.dim() == 1,
        f"{what} should be a 1-D float64 tensor, got {got.dtype} of shape {tuple(got.shape)}")
    expect(got.numel() == len(want), f"{what}: expected {len(want)} minimisers, got {got.numel()}")
    values = got.tolist()
    expect(all(abs(a - b) <= 1e-6 for a, b in zip(values, want, strict=True)),
        f"{what}: expected {[round(v, 8) for v in want]}, got {values}")


def expect_global(got, want, what):
    expect(isinstance(got, tuple) and len(got) == 2, f"{what} should return a tuple (x_star, fn(x_star)), got {got!r}")
    x_star, value = (float(v) for v in got)
    expect(abs(x_star - want[0]) <= 1e-6 and abs(value - want[1]) <= 1e-6,
        f"{what}: expected about ({want[0]:.8f}, {want[1]:.8f}), got ({x_star}, {value})")


@pytest.mark.question("q2", part="local_minima", hint=LOCAL_HINT)
def test_local_minima_of_f(submission):
    """The chapter's figure: f on (-1, 2) has a local minimum near -0.27 and the global one near 1.09."""
    want = EXACT("local_minima f -1 2")
    expect_minima(submission.local_minima(Elementwise(RISK), -1.0, 2.0), want, "local_minima(f, -1, 2)")


@pytest.mark.question("q2", part="local_minima", hint=LOCAL_HINT)
def test_local_minima_of_g(submission):
    """g wiggles: three local minima on (0.5, 1.5)."""
    want = EXACT("local_minima g 0.5 1.5")
    expect_minima(submission.local_minima(Elementwise(EMPIRICAL_RISK), 0.5, 1.5), want, "local_minima(g, 0.5, 1.5)")


@pytest.mark.question("q2", part="local_minima", hint=LOCAL_HINT)
def test_no_local_minimum(submission):
    """exp is increasing: its minimum over [0, 1] is at an end, not in the open interval."""
    got = submission.local_minima(Elementwise(sympy.exp(x)), 0.0, 1.0)
    expect_minima(got, [], "local_minima(exp, 0, 1)")


@pytest.mark.question("q2", part="global_minimum", hint=GLOBAL_HINT)
def test_global_minima_of_f_and_g_differ(submission):
    """The chapter's point: the minimiser of the empirical risk is not the minimiser of the risk."""
    expect_global(submission.global_minimum(Elementwise(EMPIRICAL_RISK), 0.5, 1.5),
                  EXACT("global_minimum g 0.5 1.5"), "global_minimum(g, 0.5, 1.5)")
    expect_global(submission.global_minimum(Elementwise(RISK), 0.5, 1.5),
                  EXACT("global_minimum f 0.5 1.5"), "global_minimum(f, 0.5, 1.5)")


@pytest.mark.question("q2", part="global_minimum", hint=GLOBAL_HINT)
def test_global_minimum_at_an_end(submission):
    """x**3 - 3x has a local minimum at 1, but on [-3, 3] the lowest point is the left end."""
    expect_global(submission.global_minimum(Elementwise(x**3 - 3 * x), -3.0, 3.0), (-3.0, -18.0),
                  "global_minimum(x**3 - 3x, -3, 3)")

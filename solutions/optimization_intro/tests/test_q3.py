"""Public tests for q3: the Hessian, on the chapter's examples.

The expected matrices are worked out by hand (and agree with
``sympy.hessian``). A multivariate function is passed as a specification;
in your notebook it is an ordinary torch function of a tensor of shape
``(k,)`` returning a 0-d tensor.
"""

import math

import pytest
import sympy
import torch

from grader.specs import Vector

pytestmark = pytest.mark.question(
    "q3", part="hessian", hint="hessian(fn, x): the (k, k) matrix of second derivatives of fn at x, in x's dtype")

x, y = sympy.symbols("x y")


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def expect_matrix(got, want, dtype, what, tol=1e-9):
    expect(isinstance(got, torch.Tensor), f"{what} should be a torch.Tensor, got {type(got).__name__}")
    expect(got.dtype == dtype and tuple(got.shape) == (len(want), len(want)),
        f"{what} should be a {dtype} tensor of shape {(len(want), len(want))}, got {got.dtype} {tuple(got.shape)}")
    values = got.tolist()
    pairs = zip([a for row in values for a in row], [b for row in want for b in row], strict=True)
    ok = all(abs(a - b) <= tol * max(1.0, abs(b)) for a, b in pairs)
    expect(ok, f"{what}: expected {want}, got {values}")


def test_saddle_at_the_origin(submission):
    """The chapter's saddle x**2 - y**2: Hessian diag(2, -2) at the origin."""
    got = submission.hessian(Vector(x**2 - y**2, [x, y]), torch.zeros(2, dtype=torch.float64))
    expect_matrix(got, [[2.0, 0.0], [0.0, -2.0]], torch.float64, "hessian(x**2 - y**2, (0, 0))")


def test_one_variable(submission):
    """x**3 as a function of a (1,)-tensor: the Hessian is the 1x1 matrix [[6 x]]."""
    got = submission.hessian(Vector(x**3, [x]), torch.tensor([2.0], dtype=torch.float64))
    expect_matrix(got, [[12.0]], torch.float64, "hessian(x**3, [2.0])")


def test_mixed_partials(submission):
    """x**2 y + sin(xy) at (1, 2): [[2y - y**2 sin(xy), 2x + cos(xy) - xy sin(xy)], [..., -x**2 sin(xy)]]."""
    s, c = math.sin(2.0), math.cos(2.0)
    point = torch.tensor([1.0, 2.0], dtype=torch.float64)
    got = submission.hessian(Vector(x**2 * y + sympy.sin(x * y), [x, y]), point)
    want = [[4 - 4 * s, 2 + c - 2 * s], [2 + c - 2 * s, -s]]
    expect_matrix(got, want, torch.float64, "hessian(x**2 y + sin(xy), (1, 2))")


def test_float32_point_gives_float32(submission):
    """A float32 point gives a float32 Hessian."""
    point = torch.tensor([1.0, -1.0], dtype=torch.float32)
    got = submission.hessian(Vector(x**4 + y**4 + x * y, [x, y]), point)
    expect_matrix(got, [[12.0, 1.0], [1.0, 12.0]], torch.float32, "hessian(x**4 + y**4 + xy, (1, -1)) in float32",
                  tol=1e-5)

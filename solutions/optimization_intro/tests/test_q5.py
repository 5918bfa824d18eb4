"""Public tests for q5: derivatives by autograd, and gradient descent, on the chapter's examples.

The expected values are exact (from ``math``, or worked out by hand: on
``x**2`` with step ``lr`` each step multiplies x by ``1 - 2 lr``).
"""

import math

import pytest
import sympy
import torch

from grader.specs import Elementwise, Vector

DERIVATIVE_HINT = "derivative(fn, x): fn'(x) at every entry of x by autograd, with x's shape and dtype"
DESCENT_HINT = ("gradient_descent: a tensor of shape (num_steps + 1, *x0.shape), row 0 is x0, "
                "x[t+1] = x[t] - lr * grad fn(x[t]), in x0's dtype")

x, y = sympy.symbols("x y")


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def expect_close(got, want, dtype, what, tol=1e-12):
    expect(isinstance(got, torch.Tensor), f"{what} should be a torch.Tensor, got {type(got).__name__}")
    want_t = torch.tensor(want, dtype=torch.float64)
    expect(got.dtype == dtype and got.shape == want_t.shape,
        f"{what} should be a {dtype} tensor of shape {tuple(want_t.shape)}, got {got.dtype} {tuple(got.shape)}")
    ok = torch.allclose(got.to(torch.float64), want_t, rtol=tol, atol=tol)
    expect(ok, f"{what}: expected {want}, got {got.tolist()}")


@pytest.mark.question("q5", part="derivative", hint=DERIVATIVE_HINT)
def test_vanishing_gradient_of_tanh(submission):
    """The chapter's example: tanh'(4) = 1 - tanh(4)**2, about 0.0013."""
    got = submission.derivative(Elementwise(sympy.tanh(x)), torch.tensor(4.0, dtype=torch.float64))
    expect_close(got, 1 - math.tanh(4.0) ** 2, torch.float64, "derivative(tanh, 4.0)")


@pytest.mark.question("q5", part="derivative", hint=DERIVATIVE_HINT)
def test_derivative_of_a_square(submission):
    """(x**2)' = 2x at every entry, any shape."""
    points = torch.tensor([[-1.0, 0.0, 0.5], [2.0, 3.0, -4.0]], dtype=torch.float64)
    got = submission.derivative(Elementwise(x**2), points)
    expect_close(got, (2 * points).tolist(), torch.float64, "derivative(x**2, x)")


@pytest.mark.question("q5", part="derivative", hint=DERIVATIVE_HINT)
def test_derivative_float32(submission):
    """A float32 input gives a float32 derivative."""
    points = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float32)
    got = submission.derivative(Elementwise(sympy.sin(x)), points)
    expect_close(got, [math.cos(v) for v in points.tolist()], torch.float32, "derivative(sin, x) in float32", tol=1e-6)


@pytest.mark.question("q5", part="gradient_descent", hint=DESCENT_HINT)
def test_descent_on_a_parabola(submission):
    """On x**2 with lr = 0.1, each step multiplies x by 0.8."""
    got = submission.gradient_descent(Elementwise(x**2), torch.tensor(1.0, dtype=torch.float64), 0.1, 3)
    expect_close(got, [1.0, 0.8, 0.64, 0.512], torch.float64, "gradient_descent(x**2, 1.0, 0.1, 3)")


@pytest.mark.question("q5", part="gradient_descent", hint=DESCENT_HINT)
def test_descent_near_the_saddle(submission):
    """On x**2 - y**2 from (1, 0.01) with lr = 0.1: x shrinks by 0.8, y grows by 1.2 each step."""
    x0 = torch.tensor([1.0, 0.01], dtype=torch.float64)
    got = submission.gradient_descent(Vector(x**2 - y**2, [x, y]), x0, 0.1, 3)
    want = [[0.8**t, 0.01 * 1.2**t] for t in range(4)]
    expect_close(got, want, torch.float64, "gradient_descent(x**2 - y**2, (1, 0.01), 0.1, 3)")


@pytest.mark.question("q5", part="gradient_descent", hint=DESCENT_HINT)
def test_zero_steps(submission):
    """num_steps = 0: just x0, as a trajectory of one row."""
    x0 = torch.tensor([0.5, -0.5], dtype=torch.float64)
    got = submission.gradient_descent(Vector(x**2 - y**2, [x, y]), x0, 0.1, 0)
    expect_close(got, [[0.5, -0.5]], torch.float64, "gradient_descent(..., num_steps=0)")


@pytest.mark.question("q5", part="gradient_descent", hint=DESCENT_HINT)
def test_descent_float32(submission):
    """A float32 x0 gives a float32 trajectory."""
    got = submission.gradient_descent(Elementwise(x**2), torch.tensor(1.0, dtype=torch.float32), 0.25, 2)
    expect_close(got, [1.0, 0.5, 0.25], torch.float32, "gradient_descent(x**2, 1.0 in float32, 0.25, 2)", tol=1e-6)

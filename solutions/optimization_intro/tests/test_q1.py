"""Public tests for q1: the risk f and the empirical risk g.

Run them with ``grader check assignment.ipynb``. The expected values are
exact (from ``math``); the hidden tests check many more points, shapes and
float32 inputs in the same way.
"""

import math

import pytest
import torch

F_HINT = "f(x) = x * cos(pi * x), elementwise: any shape (0-d too), x's dtype, differentiable by autograd"
G_HINT = "g(x) = f(x) + 0.2 * cos(5 * pi * x), elementwise: any shape (0-d too), x's dtype, differentiable"


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def risk(v):
    return v * math.cos(math.pi * v)


def empirical_risk(v):
    return risk(v) + 0.2 * math.cos(5 * math.pi * v)


def expect_close(got, want, what, tol=1e-12):
    """Fail with the values when ``got`` is not a tensor matching the float list ``want``."""
    expect(isinstance(got, torch.Tensor), f"{what} should be a torch.Tensor, got {type(got).__name__}")
    expect(got.numel() == len(want), f"{what}: expected {len(want)} values, got shape {tuple(got.shape)}")
    got_list = got.reshape(-1).tolist()
    ok = all(abs(a - b) <= tol for a, b in zip(got_list, want, strict=True))
    expect(ok, f"{what}: expected {[round(v, 6) for v in want]}, got {got_list}")


CHAPTER_POINTS = [-1.0, -0.5, 0.0, 0.5, 1.0, 1.1, 1.5, 2.0]


@pytest.mark.question("q1", part="f", hint=F_HINT)
def test_f_values_at_chapter_points(submission):
    x = torch.tensor(CHAPTER_POINTS, dtype=torch.float64)
    expect_close(submission.f(x), [risk(v) for v in CHAPTER_POINTS], "f at the chapter's points")


@pytest.mark.question("q1", part="f", hint=F_HINT)
def test_f_keeps_shape_and_dtype(submission):
    for x in (torch.tensor(1.5), torch.ones(2, 3, dtype=torch.float32), torch.zeros(4, dtype=torch.float64)):
        got = submission.f(x)
        expect(isinstance(got, torch.Tensor) and got.shape == x.shape and got.dtype == x.dtype,
            f"f of a {x.dtype} tensor of shape {tuple(x.shape)} should have the same shape and dtype, got "
            f"{getattr(got, 'dtype', type(got).__name__)} {tuple(getattr(got, 'shape', ()))}")


@pytest.mark.question("q1", part="f", hint=F_HINT)
def test_f_derivative_by_autograd(submission):
    # f'(x) = cos(pi x) - pi x sin(pi x)
    points = [0.0, 0.25, 1.0, 1.5]
    value, grad = submission.f.grad(torch.tensor(points, dtype=torch.float64))
    expect_close(value, [risk(v) for v in points], "f")
    expect_close(grad, [math.cos(math.pi * v) - math.pi * v * math.sin(math.pi * v) for v in points],
                 "the autograd derivative of f")


@pytest.mark.question("q1", part="g", hint=G_HINT)
def test_g_values_at_chapter_points(submission):
    x = torch.tensor(CHAPTER_POINTS, dtype=torch.float64)
    expect_close(submission.g(x), [empirical_risk(v) for v in CHAPTER_POINTS], "g at the chapter's points")


@pytest.mark.question("q1", part="g", hint=G_HINT)
def test_g_keeps_shape_and_dtype(submission):
    for x in (torch.tensor(1.5), torch.ones(2, 3, dtype=torch.float32), torch.zeros(4, dtype=torch.float64)):
        got = submission.g(x)
        expect(isinstance(got, torch.Tensor) and got.shape == x.shape and got.dtype == x.dtype,
            f"g of a {x.dtype} tensor of shape {tuple(x.shape)} should have the same shape and dtype, got "
            f"{getattr(got, 'dtype', type(got).__name__)} {tuple(getattr(got, 'shape', ()))}")


@pytest.mark.question("q1", part="g", hint=G_HINT)
def test_g_derivative_by_autograd(submission):
    # g'(x) = f'(x) - pi sin(5 pi x)
    points = [0.0, 0.1, 1.0, 1.3]
    value, grad = submission.g.grad(torch.tensor(points, dtype=torch.float64))
    expect_close(value, [empirical_risk(v) for v in points], "g")
    want = [math.cos(math.pi * v) - math.pi * v * math.sin(math.pi * v) - math.pi * math.sin(5 * math.pi * v)
            for v in points]
    expect_close(grad, want, "the autograd derivative of g")

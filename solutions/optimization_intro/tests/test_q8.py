"""Public tests for q8 (exercise 4): a ball on the saddle x**2 - y**2.

On x**2 - y**2 a gradient step maps (x, y) to ((1 - 2 lr) x, (1 + 2 lr) y):
the expected values below are worked out by hand from that (with lr = 0.25,
x halves and y grows by 1.5 at every step, exactly in floating point).
"""

import pytest
import sympy
import torch

from grader.specs import Vector

ESCAPE_HINT = "saddle_escape_steps: each step maps y to (1 + 2 lr) y; the first t with |y_t| >= 1, as an int"
PERTURBED_HINT = ("perturbed_gradient_descent: x[t+1] = x[t] - lr * grad fn(x[t]) + noise_std * z[t], "
                  "z[t] ~ N(0, I) drawn from generator; shape (num_steps + 1, *x0.shape), row 0 is x0")

x, y = sympy.symbols("x y")
SADDLE = Vector(x**2 - y**2, [x, y])


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def expect_steps(got, want, what):
    expect(type(got) is int and got == want, f"{what}: expected the int {want}, got {got!r}")


@pytest.mark.question("q8", part="saddle_escape_steps", hint=ESCAPE_HINT)
def test_escape_in_two_steps(submission):
    """eps = 0.5, lr = 0.25: y goes 0.5, 0.75, 1.125, so 2 steps."""
    expect_steps(submission.saddle_escape_steps(0.5, 0.25), 2, "saddle_escape_steps(0.5, 0.25)")


@pytest.mark.question("q8", part="saddle_escape_steps", hint=ESCAPE_HINT)
def test_escape_chapter_step(submission):
    """eps = 0.001, lr = 0.1: y_t = 0.001 * 1.2**t; 1.2**37 is about 851, 1.2**38 about 1021, so 38 steps."""
    expect_steps(submission.saddle_escape_steps(0.001, 0.1), 38, "saddle_escape_steps(0.001, 0.1)")


@pytest.mark.question("q8", part="saddle_escape_steps", hint=ESCAPE_HINT)
def test_escape_negative_eps(submission):
    """Only |y| matters: eps = -0.5 takes 2 steps too."""
    expect_steps(submission.saddle_escape_steps(-0.5, 0.25), 2, "saddle_escape_steps(-0.5, 0.25)")


@pytest.mark.question("q8", part="saddle_escape_steps", hint=ESCAPE_HINT)
def test_already_escaped(submission):
    """|eps| >= 1 at the start: 0 steps."""
    expect_steps(submission.saddle_escape_steps(2.0, 0.1), 0, "saddle_escape_steps(2.0, 0.1)")


def path(submission, x0, lr, noise_std, num_steps, seed=0):
    return submission.perturbed_gradient_descent(SADDLE, torch.tensor(x0, dtype=torch.float64), lr, noise_std,
                                                 num_steps, torch.Generator().manual_seed(seed))


@pytest.mark.question("q8", part="perturbed_gradient_descent", hint=PERTURBED_HINT)
def test_no_noise_is_gradient_descent(submission):
    """noise_std = 0 from (1, 0.5) with lr = 0.25: x halves and y grows by 1.5 at every step."""
    got = path(submission, [1.0, 0.5], 0.25, 0.0, 3)
    want = torch.tensor([[1.0, 0.5], [0.5, 0.75], [0.25, 1.125], [0.125, 1.6875]], dtype=torch.float64)
    expect(isinstance(got, torch.Tensor) and got.dtype == torch.float64 and got.shape == (4, 2),
           f"expected a float64 tensor of shape (4, 2), got {got!r:.80}")
    expect(torch.equal(got, want), f"expected {want.tolist()}, got {got.tolist()}")


@pytest.mark.question("q8", part="perturbed_gradient_descent", hint=PERTURBED_HINT)
def test_the_saddle_with_and_without_noise(submission):
    """From exactly (0, 0): plain descent never moves; with noise the ball rolls off (|y| grows like 1.5**t)."""
    still = path(submission, [0.0, 0.0], 0.25, 0.0, 30)
    expect(isinstance(still, torch.Tensor) and still.shape == (31, 2), f"expected shape (31, 2), got {still!r:.80}")
    expect(torch.equal(still, torch.zeros(31, 2, dtype=torch.float64)),
           "with noise_std = 0 the ball should stay at (0, 0)")
    rolled = path(submission, [0.0, 0.0], 0.25, 0.01, 60)
    expect(isinstance(rolled, torch.Tensor) and rolled.shape == (61, 2), f"expected shape (61, 2), got {rolled!r:.80}")
    expect(torch.equal(rolled[0], torch.zeros(2, dtype=torch.float64)), "row 0 should be x0 = (0, 0)")
    final = abs(float(rolled[-1, 1]))
    expect(final > 1, f"with noise_std = 0.01 the ball should leave the saddle: |y| = {final:.3g} after 60 steps")


@pytest.mark.question("q8", part="perturbed_gradient_descent", hint=PERTURBED_HINT)
def test_same_generator_seed_same_path(submission):
    """The noise comes from `generator` only: the same seed gives the same trajectory."""
    first = path(submission, [1.0, 0.0], 0.1, 0.1, 10, seed=3)
    second = path(submission, [1.0, 0.0], 0.1, 0.1, 10, seed=3)
    expect(isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor) and torch.equal(first, second),
           "two calls with torch.Generator().manual_seed(3) should give the same trajectory")
    expect(not torch.equal(first[1:], first[:1].expand(10, 2)), "with noise_std = 0.1 the trajectory should move")

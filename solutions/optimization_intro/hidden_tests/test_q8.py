"""Hidden tests for q8 (exercise 4): escaping the saddle of x**2 - y**2, with and without noise.

``saddle_escape_steps``: a step of gradient descent on ``x**2 - y**2`` maps
``y`` to ``(1 + 2 lr) y``, so ``|y_t| = (1 + 2 lr)^t |eps|`` and the answer is
the least ``t`` with ``|y_t| >= 1`` (0 when ``|eps| >= 1``). Expected values
are exact: ``t`` is settled with rational arithmetic on the very floats sent.
Every case keeps ``log(1/|eps|) / log(1 + 2 lr)`` at least 1e-4 away from an
integer (checked at 50 digits), so that the rounding of a correct float
computation (a loop, or a closed form with logs: relative errors ~1e-12 at
most here) cannot change the answer; ``eps = 0`` (no escape) is not tested.

``perturbed_gradient_descent``: with ``noise_std = 0`` it must be plain
gradient descent, exactly on quadratics whose trajectories are exact dyadic
numbers (every correct order of operations is then exact), within 1e-9 on
other functions; from exactly the saddle it must then never move, and with
noise it must escape. The noise itself is checked through the trajectory:
with ``fn = 0`` the increments are exactly ``noise_std * z[t]``, and on
the sum of squares with ``lr = 0.5`` every row after the first is exactly
``noise_std * z[t-1]`` (the step lands on 0), so the ``z`` are recovered and
tested: standard normal scale (``grader.checks.montecarlo.normal_std_test``)
and centre (a Chernoff bound), each check failing a correct solution with
probability at most ``ALPHA = 1e-9``; fresh at every step and in every
coordinate; the same for the same generator seed and different for different
seeds, whatever else ran in between (the worker is one process: noise from
the global RNG would differ between two calls).
The draw order is the submission's own: no test assumes how ``z`` is drawn.
"""

from __future__ import annotations

import functools
import math
import random
from fractions import Fraction

import mpmath
import pytest
import sympy
import torch

from grader.checks import montecarlo, symbolic
from grader.checks.numeric import assert_close, assert_tensor
from grader.errors import CheckFailure
from grader.specs import Vector

ESCAPE = pytest.mark.question(
    "q8", part="saddle_escape_steps",
    hint="saddle_escape_steps: each step maps y to (1 + 2 lr) y; the first t with |y_t| >= 1, as an int")
PERTURBED = pytest.mark.question(
    "q8", part="perturbed_gradient_descent",
    hint="perturbed_gradient_descent: x[t+1] = x[t] - lr * grad fn(x[t]) + noise_std * z[t], z[t] ~ N(0, I) "
         "drawn fresh at every step from generator; shape (num_steps + 1, *x0.shape), row 0 is x0")

x, y, z = sympy.symbols("x y z")
SADDLE = x**2 - y**2
ALPHA = 1e-9  # each Monte-Carlo check fails a correct solution with probability at most this
TIE_DISTANCE = 1e-4


# ---------------------------------------------------------------------- saddle_escape_steps


@functools.cache
def exact_escape(eps: float, lr: float) -> int:
    """The least t with |eps| (1 + 2 lr)^t >= 1, exactly; RuntimeError if the case is near a tie."""
    e, growth = abs(Fraction(eps)), 1 + 2 * Fraction(lr)
    if e >= 1:
        return 0
    with mpmath.workdps(50):
        ratio = -mpmath.log(mpmath.mpf(abs(eps))) / mpmath.log(1 + 2 * mpmath.mpf(lr))
        if abs(ratio - mpmath.nint(ratio)) < TIE_DISTANCE:
            raise RuntimeError(f"saddle_escape_steps({eps!r}, {lr!r}) is too close to a tie to be graded")
        t = int(mpmath.ceil(ratio))
    if not (e * growth**t >= 1 > e * growth ** (t - 1)):  # the logs at 50 digits agree with exact arithmetic
        raise RuntimeError(f"exact_escape({eps!r}, {lr!r}) is inconsistent")
    return t


# name -> (eps, lr)
FIXED = {
    "chapter_like": (0.01, 0.1),
    "small_eps": (1e-3, 0.1),
    "smaller_eps": (1e-6, 0.05),
    "two_steps": (0.5, 0.25),
    "tiny_eps": (1e-12, 0.3),
    "googol": (1e-100, 0.1),
    "almost_underflow": (1e-300, 0.05),
    "slow_start": (0.9, 1e-3),
    "small_lr": (1e-3, 1e-3),
    "one_step_negative": (-0.3, 2.0),
    "huge_lr": (0.2, 10.0),
    "tiny_lr": (1e-8, 0.01),
    "lr_one_half": (1e-2, 0.5),
    "negative_eps": (-1e-3, 0.1),
    "negative_tiny_eps": (-1e-6, 0.05),
}
ALREADY_OUT = {"eps_one": (1.0, 0.1), "eps_above_one": (1.5, 0.1), "eps_minus_two": (-2.0, 0.01)}


def random_case(seed: int) -> tuple[float, float]:
    """A seeded (eps, lr): |eps| log-uniform in [1e-12, 0.9], lr log-uniform in [0.003, 0.5], away from ties."""
    rng = random.Random(seed)
    while True:
        eps = rng.choice([-1, 1]) * 10 ** rng.uniform(-12, math.log10(0.9))
        lr = 10 ** rng.uniform(math.log10(0.003), math.log10(0.5))
        try:
            exact_escape(eps, lr)
        except RuntimeError:
            continue
        return eps, lr


RANDOM_SEEDS = (21, 22, 23, 24, 25, 26)


def check_steps(got: object, want: int, what: str) -> None:
    if type(got) is not int:
        raise CheckFailure(f"{what} should return a Python int, got {type(got).__name__}")
    if got != want:
        raise CheckFailure(f"{what} is wrong: {got} is not the first step t with |y_t| >= 1")


@ESCAPE
@pytest.mark.parametrize("name", list(FIXED))
def test_escape_steps(submission, name):
    eps, lr = FIXED[name]
    check_steps(submission.saddle_escape_steps(eps, lr), exact_escape(eps, lr),
                f"saddle_escape_steps({eps!r}, {lr!r})")


@ESCAPE
@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_escape_steps_random(submission, seed):
    eps, lr = random_case(seed)
    check_steps(submission.saddle_escape_steps(eps, lr), exact_escape(eps, lr),
                f"saddle_escape_steps({eps!r}, {lr!r})")


@ESCAPE
@pytest.mark.parametrize("name", list(ALREADY_OUT))
def test_escape_already_out(submission, name):
    """|eps| >= 1: |y_0| >= 1 already, so no step is needed."""
    eps, lr = ALREADY_OUT[name]
    got = submission.saddle_escape_steps(eps, lr)
    if type(got) is not int or got != 0:
        raise CheckFailure(f"saddle_escape_steps({eps!r}, {lr!r}) should be 0: |y_0| = |eps| >= 1 already, "
                           f"got {got!r:.40}")


@ESCAPE
def test_escape_sign_of_eps(submission):
    """The sign of eps does not matter: y keeps its sign and |y| grows alike."""
    for eps, lr in [(2e-3, 0.07), (3e-9, 0.2)]:
        up, down = submission.saddle_escape_steps(eps, lr), submission.saddle_escape_steps(-eps, lr)
        check_steps(up, exact_escape(eps, lr), f"saddle_escape_steps({eps!r}, {lr!r})")
        check_steps(down, exact_escape(eps, lr), f"saddle_escape_steps({-eps!r}, {lr!r})")


# ---------------------------------------------------------------------- perturbed_gradient_descent: no noise

# name -> (expression, variables, x0, lr, num_steps in float64, in float32):
# every step is exact (x0 and lr dyadic, each coordinate multiplied by 1/2,
# 3/2, 3/4, 1/4 or 9/8 per step, and few enough steps for the powers of 3 to
# fit in the 53 bits of float64, the 24 bits of float32: 3**15 and 9**7 do).
EXACT = {
    "saddle": (SADDLE, (x, y), (1.0, 0.5), 0.25, 30, 15),
    "bowl": (x**2 + 3 * y**2, (x, y), (-2.0, 1.5), 0.125, 30, 15),
    "three_axes": (x**2 + 3 * y**2 - z**2 / 2, (x, y, z), (1.0, -0.75, 0.25), 0.125, 15, 7),
}
PER_STEP = {  # the factor each coordinate is multiplied by at every step
    "saddle": (Fraction(1, 2), Fraction(3, 2)),
    "bowl": (Fraction(3, 4), Fraction(1, 4)),
    "three_axes": (Fraction(3, 4), Fraction(1, 4), Fraction(9, 8)),
}


def exact_quadratic_path(name: str, num_steps: int) -> torch.Tensor:
    x0 = EXACT[name][2]
    rows = [[Fraction(v) * f**t for v, f in zip(x0, PER_STEP[name], strict=True)] for t in range(num_steps + 1)]
    return torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)


def check_trajectory(got: object, x0: torch.Tensor, num_steps: int, what: str) -> torch.Tensor:
    """Shape (num_steps + 1, *x0.shape), x0's dtype, row 0 exactly x0."""
    value = assert_tensor(got, what, shape=(num_steps + 1, *x0.shape), dtype=x0.dtype)
    if not torch.equal(value[0], x0):
        raise CheckFailure(f"{what}: row 0 should be x0 itself")
    if not bool(torch.isfinite(value).all()):
        raise CheckFailure(f"{what} has entries that are not finite")
    return value


def run(submission, expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], x0: torch.Tensor, lr: float,
        noise_std: float, num_steps: int, seed: int) -> object:
    return submission.perturbed_gradient_descent(Vector(expr, variables), x0, lr, noise_std, num_steps,
                                                 torch.Generator().manual_seed(seed))


# The perturbed part has one test item per property (cases of one property
# are looped over inside a test), so that each property weighs alike in the
# part's points: the noise matters as much as the descent.


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=())
def test_no_noise_is_gradient_descent_exactly(submission, seed):
    for name, (expr, variables, start, lr, steps64, steps32) in EXACT.items():
        for dtype, steps in ((torch.float64, steps64), (torch.float32, steps32)):
            x0 = torch.tensor(start, dtype=dtype)
            what = f"the {str(dtype)[6:]} trajectory with noise_std=0 [{name}]"
            got = check_trajectory(run(submission, expr, variables, x0, lr, 0.0, steps, seed), x0, steps, what)
            want = exact_quadratic_path(name, steps).to(dtype)
            if not torch.equal(got, want):
                wrong = int((got != want).any(dim=1).sum())
                raise CheckFailure(f"{what} should be plain gradient descent exactly; "
                                   f"{wrong} of {steps + 1} rows differ")


# name -> (expression, variables, x0, lr, num_steps): the exact path at 50 digits.
CURVED = {
    "trig_mix": (sympy.sin(x) * sympy.cos(y) + (x**2 + y**2) / 10, (x, y), (0.5, -0.3), 0.2, 30),
    "rosenbrock_mild": ((1 - x) ** 2 + 5 * (y - x**2) ** 2, (x, y), (-1.0, 1.0), 0.01, 60),
    "log_tanh": (sympy.log(1 + x**2 + y**2) + sympy.tanh(z) * x + z**2 / 2, (x, y, z), (1.0, -0.5, 0.25), 0.1, 25),
}


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=())
def test_no_noise_follows_the_exact_path(submission, seed):
    for name, (expr, variables, start, lr, steps) in CURVED.items():
        x0 = torch.tensor(start, dtype=torch.float64)
        what = f"the trajectory with noise_std=0 [{name}]"
        got = check_trajectory(run(submission, expr, variables, x0, lr, 0.0, steps, seed), x0, steps, what)
        assert_close(got, symbolic.descent_path(expr, variables, x0, lr, steps), what, rtol=1e-9, atol=1e-12)


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=())
def test_few_steps(submission, seed):
    x0 = torch.tensor([0.75, -0.25], dtype=torch.float64)
    for num_steps in (0, 1):
        what = f"perturbed_gradient_descent with num_steps={num_steps}"
        check_trajectory(run(submission, SADDLE, (x, y), x0, 0.1, 0.5, num_steps, seed), x0, num_steps, what)


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=())
def test_plain_descent_never_leaves_the_saddle(submission, seed):
    """noise_std = 0 from exactly (0, 0): the gradient is 0, so every row is (0, 0)."""
    x0 = torch.zeros(2, dtype=torch.float64)
    got = check_trajectory(run(submission, SADDLE, (x, y), x0, 0.25, 0.0, 50, seed), x0, 50,
                           "the trajectory from the saddle point with noise_std=0")
    if not torch.equal(got, torch.zeros(51, 2, dtype=torch.float64)):
        raise CheckFailure("with noise_std=0, descent from exactly the saddle (0, 0) should never move")


# ---------------------------------------------------------------------- perturbed_gradient_descent: the noise

# Escape from the saddle: y[t+1] = (1 + 2 lr) y[t] + s z[t] from y[0] = 0 gives
# y[N] ~ N(0, s^2 sum_{j<N} (1 + 2 lr)^{2j}) exactly, so P(|y[N]| < 1) =
# erf(1 / (sigma sqrt 2)); with lr = 0.25, s = 0.01, N = 80: sigma = 1.09e12
# and the probability that a correct solution has not escaped is 7.3e-13
# per run, 2.2e-12 for the three runs of the test (union bound).
ESCAPE_LR, ESCAPE_NOISE, ESCAPE_STEPS = 0.25, 0.01, 80
ESCAPE_GROWTH = 1 + 2 * ESCAPE_LR
ESCAPE_SIGMA = ESCAPE_NOISE * math.sqrt((ESCAPE_GROWTH ** (2 * ESCAPE_STEPS) - 1) / (ESCAPE_GROWTH**2 - 1))
ESCAPE_FAILURE = math.erf(1 / (ESCAPE_SIGMA * math.sqrt(2)))  # 7.3e-13 < ALPHA


@PERTURBED
@pytest.mark.montecarlo(alpha=3 * ESCAPE_FAILURE, catches=())
def test_noise_escapes_the_saddle(submission, seed):
    x0 = torch.zeros(2, dtype=torch.float64)
    what = f"perturbed descent from the saddle (lr={ESCAPE_LR}, noise_std={ESCAPE_NOISE}, {ESCAPE_STEPS} steps)"
    for salt in range(3):
        got = run(submission, SADDLE, (x, y), x0, ESCAPE_LR, ESCAPE_NOISE, ESCAPE_STEPS, seed + salt)
        got = check_trajectory(got, x0, ESCAPE_STEPS, what)
        if not abs(float(got[-1, 1])) >= 1:
            raise CheckFailure(f"{what} should have escaped (|y| >= 1 at the end), "
                               f"but |y| = {abs(float(got[-1, 1])):.3g}")


def check_standard_normal(draws: torch.Tensor, noise_std: float, what: str) -> None:
    """Fail unless the draws ``z`` look like iid N(0, 1), by two checks of level ALPHA each.

    Scale: :func:`grader.checks.montecarlo.normal_std_test` (Laurent-Massart
    chi-square bounds) on ``noise_std * z`` against ``noise_std``, mean 0.
    Centre: ``sum z`` is N(0, N) and ``P(|sum z| >= sqrt(2 N u)) <= 2 e^-u``
    (Chernoff), ``= ALPHA`` for ``u = log(2 / ALPHA)``.
    """
    montecarlo.normal_std_test(noise_std * draws, noise_std, mean=0.0, alpha=ALPHA, what=f"the noise of {what}")
    n, total = draws.numel(), float(draws.sum())
    if not abs(total) <= math.sqrt(2 * n * math.log(2 / ALPHA)):
        raise CheckFailure(f"the noise of {what} has mean about {noise_std * total / n:.3g}, not 0")


# 100 steps in 20 coordinates: 2000 draws, enough for normal_std_test to catch
# a standard deviation off by a factor 0.8 or 1.25 except with probability
# 1e-9 (montecarlo.normal_std_samples(0.8) = 1900, (1.25) = 1892). Twenty
# coordinates rather than two: the same draws in a tenth of the steps, and a
# step of autograd costs the submission about 0.3 ms whatever its size.
NOISE_STD, NOISE_STEPS, NOISE_DIM = 0.3, 100, 20
COORDS = sympy.symbols(f"u:{NOISE_DIM}")
FLAT = sympy.Integer(0)
SQUARES = sympy.Add(*(c**2 for c in COORDS))


def noise_from_flat_function(submission, seed: int) -> torch.Tensor:
    """With fn = 0 and x0 = 0, the increments are noise_std * z[t] (up to float64 rounding, ~1e-16 relative)."""
    x0 = torch.zeros(NOISE_DIM, dtype=torch.float64)
    got = run(submission, FLAT, COORDS, x0, 0.1, NOISE_STD, NOISE_STEPS, seed)
    got = check_trajectory(got, x0, NOISE_STEPS, f"the trajectory with fn = 0, noise_std = {NOISE_STD}")
    return (got[1:] - got[:-1]) / NOISE_STD


@PERTURBED
@pytest.mark.montecarlo(alpha=2 * ALPHA,
                         catches=("noise_with_std_squared", "noise_on_the_gradient", "noise_only_once"))
def test_noise_scale_on_a_flat_function(submission, seed):
    check_standard_normal(noise_from_flat_function(submission, seed), NOISE_STD,
                          f"{NOISE_STEPS} steps on fn = 0 (so x[t+1] - x[t] = noise_std * z[t])")


@PERTURBED
@pytest.mark.montecarlo(alpha=2 * ALPHA,
                         catches=("noise_with_std_squared", "noise_on_the_gradient", "noise_only_once"))
def test_noise_is_added_after_the_step(submission, seed):
    """On a sum of squares with lr = 0.5 a step lands exactly on 0: row t+1 is noise_std * z[t], whatever x[t] was."""
    x0 = torch.arange(NOISE_DIM, dtype=torch.float64) - 9.5
    got = run(submission, SQUARES, COORDS, x0, 0.5, NOISE_STD, NOISE_STEPS, seed)
    got = check_trajectory(got, x0, NOISE_STEPS, "the trajectory on a sum of squares with lr = 0.5")
    check_standard_normal(got[1:] / NOISE_STD, NOISE_STD,
                          f"{NOISE_STEPS} steps on a sum of squares with lr = 0.5 "
                          "(each step x - lr * 2x = 0, then the noise)")


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=("noise_only_once", "noise_drawn_once_reused"))
def test_noise_is_fresh_at_every_step_and_coordinate(submission, seed):
    """Almost surely (probability 1 for continuous draws): no step without noise, no draw reused."""
    draws = noise_from_flat_function(submission, seed)
    silent = int((draws == 0).all(dim=1).sum())
    if silent:
        raise CheckFailure(f"{silent} of {NOISE_STEPS} steps added no noise: noise_std * z[t] goes in at every step")
    if bool((draws[1:] == draws[:-1]).all(dim=1).any()):
        raise CheckFailure("two consecutive steps added the same noise: draw a fresh z[t] at every step")
    if bool((draws[:, 0] == draws[:, 1]).all()):
        raise CheckFailure("every step added the same noise to both coordinates: "
                           "z[t] ~ N(0, I) has independent entries")


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=("noise_from_the_global_rng",))
def test_same_seed_same_trajectory(submission, seed):
    """The noise comes from the generator only: the same seed gives the same path, whatever ran in between.

    What runs in between is perturbed_gradient_descent itself (another seed,
    another shape): a call of another student function there would make this
    part's points depend on that function.
    """
    x0 = torch.tensor([0.5, 0.0], dtype=torch.float64)
    first = run(submission, SADDLE, (x, y), x0, 0.1, 0.05, 40, seed)
    first = check_trajectory(first, x0, 40, "perturbed_gradient_descent")
    run(submission, SADDLE, (x, y), x0, 0.1, 0.05, 40, seed + 1)
    run(submission, SQUARES, COORDS, torch.zeros(NOISE_DIM, dtype=torch.float64), 0.1, 0.3, 5, seed + 2)
    again = run(submission, SADDLE, (x, y), x0, 0.1, 0.05, 40, seed)
    if not (isinstance(again, torch.Tensor) and torch.equal(again, first)):
        raise CheckFailure("two calls with generators of the same seed gave different trajectories: "
                           "draw the noise from `generator` (torch.randn(..., generator=generator)), "
                           "not from the global random state")


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=())
def test_different_seeds_different_trajectories(submission, seed):
    x0 = torch.tensor([0.5, 0.0], dtype=torch.float64)
    paths = [check_trajectory(run(submission, SADDLE, (x, y), x0, 0.1, 0.05, 20, s), x0, 20,
                              "perturbed_gradient_descent") for s in (seed, seed + 7)]
    if torch.equal(paths[0], paths[1]):
        raise CheckFailure("generators with different seeds gave the same trajectory: draw the noise from `generator`")


# Not a Monte-Carlo test: the verdict does not depend on the noise, so the
# generator has a fixed seed rather than the `seed` fixture.
@PERTURBED
def test_input_not_modified(submission):
    """x0 is left as it was (the contract: functions do not modify their inputs), noise or not."""
    x0 = torch.tensor([1.0, 0.5], dtype=torch.float64)
    for noise_std in (0.0, 0.1):
        got, (_, after, *_), _ = submission.perturbed_gradient_descent.with_args(
            Vector(SADDLE, (x, y)), x0.clone(), 0.25, noise_std, 10, torch.Generator().manual_seed(8))
        check_trajectory(got, x0, 10, f"perturbed_gradient_descent with noise_std={noise_std}")
        if not (isinstance(after, torch.Tensor) and after.dtype == x0.dtype and torch.equal(after, x0)):
            raise CheckFailure("perturbed_gradient_descent modified x0 in place")


@PERTURBED
@pytest.mark.montecarlo(alpha=0.0, catches=())
def test_float32_trajectory(submission, seed):
    x0 = torch.tensor([1.0, 0.5], dtype=torch.float32)
    got = check_trajectory(run(submission, SADDLE, (x, y), x0, 0.25, 0.1, 10, seed), x0, 10,
                           "the trajectory for a float32 x0")
    if torch.equal(got[1:], exact_quadratic_path("saddle", 10)[1:].to(torch.float32)):
        raise CheckFailure("with noise_std=0.1 the float32 trajectory should not be the noiseless one")

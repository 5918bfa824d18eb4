"""Hidden tests for q5: the derivative by autograd, and the gradient-descent trajectory.

``derivative`` against sympy's exact derivative (tanh at 4 is exactly
``1 - tanh(4)**2``; other functions; every shape, 0-d included; float64 and
float32). ``gradient_descent`` against the exact trajectory (every step at 50
digits from the very ``x0`` and ``lr`` sent): quadratics whose trajectory is
geometric, the saddle ``x**2 - y**2`` from near and exactly at its saddle
point, tanh's vanishing gradient, non-quadratic functions of 2 to 4 variables;
the shape ``(num_steps + 1, *x0.shape)``, row 0 ``x0``, ``num_steps = 0``.
All trajectories stay in regions where descent contracts or grows slowly, so
that float rounding is not amplified: correct float64 code stays within
~1e-14 of the exact path, correct float32 code within ~1e-6.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import sympy
import torch

from grader.checks import symbolic
from grader.checks.numeric import assert_close, assert_tensor
from grader.checks.oracle import Oracle
from grader.errors import CheckFailure
from grader.specs import Elementwise, Vector

DERIVATIVE = pytest.mark.question(
    "q5", part="derivative", hint="derivative(fn, x): fn'(x) at every entry of x by autograd, x's shape and dtype")
DESCENT = pytest.mark.question(
    "q5", part="gradient_descent",
    hint="gradient_descent: rows x[0] = x0, ..., x[num_steps]; x[t+1] = x[t] - lr * grad fn(x[t]); x0's dtype")

X = sympy.Symbol("x")
x, y, z, w = sympy.symbols("x y z w")
per_dtype = pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
# (rtol, atol) per dtype.
DERIVATIVE_TOL = {torch.float64: (1e-9, 1e-12), torch.float32: (1e-4, 1e-5)}
PATH_TOL = {torch.float64: (1e-9, 1e-12), torch.float32: (1e-4, 1e-5)}


def check_unmodified(name: str, before: torch.Tensor, after: object) -> None:
    """Fail if the function changed its input tensor."""
    if not (isinstance(after, torch.Tensor) and after.dtype == before.dtype and torch.equal(after, before)):
        raise CheckFailure(f"{name} modified its input tensor in place")


# ---------------------------------------------------------------------- derivative

ELEMENTWISE = {
    "tanh": sympy.tanh(X),
    "wave_packet": sympy.sin(3 * X) * sympy.exp(-(X**2) / 2),
    "cubic": X**3 - 2 * X,
    "log_bump": sympy.log(1 + X**2),
    "erf_atan": sympy.erf(X) + sympy.atan(2 * X),
    "risk": X * sympy.cos(sympy.pi * X),
    "sqrt_cosh": sympy.sqrt(1 + X**2) - sympy.cosh(X / 2),
}
SHAPES = [(), (7,), (3, 4), (2, 3, 2)]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def derivative_points(name: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Seeded points in [-3, 3]."""
    gen = torch.Generator().manual_seed(len(shape) * 31 + len(name))
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 6 - 3).to(dtype)


def exact_derivative(key: str) -> list[float]:
    """sympy's derivative at the points of ``name/shape/dtype``, flattened."""
    name, shape, dtype = key.split("/")
    points = derivative_points(name, tuple(int(n) for n in shape.split("x") if n), getattr(torch, dtype))
    return symbolic.derivative_values(ELEMENTWISE[name], X, points).reshape(-1).tolist()


def derivative_key(name: str, shape: tuple[int, ...], dtype: torch.dtype) -> str:
    return f"{name}/{'x'.join(map(str, shape))}/{dtype_name(dtype)}"


# The exact derivatives and paths at 50 digits take most of a second: computed when the assignment is authored.
EXACT_DERIVATIVES = Oracle(__file__, "derivatives", exact_derivative,
                           [derivative_key(n, s, d) for n in ELEMENTWISE for s in SHAPES
                            for d in (torch.float64, torch.float32)])


def derivative_case(name: str, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded points in [-3, 3] and the exact derivative there."""
    want = torch.tensor(EXACT_DERIVATIVES(derivative_key(name, shape, dtype)), dtype=torch.float64).reshape(shape)
    return derivative_points(name, shape, dtype), want


@DERIVATIVE
@per_dtype
def test_tanh_at_four(submission, dtype):
    """The chapter's vanishing gradient: tanh'(4) = 1 - tanh(4)**2, about 0.0013."""
    got = submission.derivative(Elementwise(sympy.tanh(X), X), torch.tensor(4.0, dtype=dtype))
    want = torch.tensor(1 - math.tanh(4.0) ** 2, dtype=torch.float64)
    rtol, atol = DERIVATIVE_TOL[dtype]
    assert_close(got, want, f"derivative of tanh at a {str(dtype)[6:]} 4.0", rtol=rtol, atol=atol, dtype=dtype)


@DERIVATIVE
@per_dtype
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)) or "0d")
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_derivative(submission, name, shape, dtype):
    points, want = derivative_case(name, shape, dtype)
    got = submission.derivative(Elementwise(ELEMENTWISE[name], X), points)
    rtol, atol = DERIVATIVE_TOL[dtype]
    assert_close(got, want, f"derivative at {str(dtype)[6:]} points of shape {shape} [{name}]",
                 rtol=rtol, atol=atol, dtype=dtype)


@DERIVATIVE
def test_vanishing_gradient_of_tanh(submission):
    """tanh' decays like 4 exp(-2x): at 10 it is about 8e-9, still exact relative to itself."""
    points = torch.tensor([4.0, 6.0, 8.0, 10.0, -10.0], dtype=torch.float64)
    got = submission.derivative(Elementwise(sympy.tanh(X), X), points)
    assert_close(got, symbolic.derivative_values(sympy.tanh(X), X, points), "derivative of tanh far out",
                 rtol=1e-6, atol=0.0)


@DERIVATIVE
@per_dtype
def test_derivative_input_not_modified(submission, dtype):
    points, want = derivative_case("wave_packet", (7,), dtype)
    got, (_, after), _ = submission.derivative.with_args(Elementwise(ELEMENTWISE["wave_packet"], X), points.clone())
    rtol, atol = DERIVATIVE_TOL[dtype]
    assert_close(got, want, "derivative", rtol=rtol, atol=atol, dtype=dtype)
    check_unmodified("derivative", points, after)


# ---------------------------------------------------------------------- gradient descent

# name -> (expression, variables, x0 (a float for one variable: a 0-d x0), lr, num_steps)
DESCENTS = {
    "tanh_vanishing": (sympy.tanh(X), (X,), 4.0, 0.5, 20),
    "parabola": (X**2, (X,), 1.0, 0.1, 15),
    "parabola_overshoot": (X**2, (X,), -1.5, 0.9, 12),
    "saddle_near": (x**2 - y**2, (x, y), (1.0, 0.01), 0.1, 25),
    "saddle_exact": (x**2 - y**2, (x, y), (0.0, 0.0), 0.1, 10),
    "quadratic_3d": (2 * x**2 + y**2 / 2 + 3 * z**2 - x * y, (x, y, z), (1.0, -2.0, 0.5), 0.1, 30),
    "rosenbrock_mild": ((1 - x) ** 2 + 5 * (y - x**2) ** 2, (x, y), (-1.0, 1.0), 0.01, 60),
    "trig_mix": (sympy.sin(x) * sympy.cos(y) + (x**2 + y**2) / 10, (x, y), (0.5, -0.3), 0.2, 30),
    "four_vars": (sympy.log(1 + x**2 + y**2) + sympy.tanh(z) * w + (z**2 + w**2) / 2, (x, y, z, w),
                  (1.0, -0.5, 0.25, 2.0), 0.1, 20),
}


def start(name: str, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(DESCENTS[name][2], dtype=dtype)


def spec(name: str) -> Elementwise | Vector:
    expr, variables, x0, _, _ = DESCENTS[name]
    return Elementwise(expr, variables[0]) if isinstance(x0, float) else Vector(expr, variables)


def exact_path_rows(key: str) -> list[Any]:
    """sympy's trajectory for ``name/dtype/num_steps``, from x0 as sent in that dtype."""
    name, dtype, steps = key.split("/")
    expr, variables, _, lr, _ = DESCENTS[name]
    return symbolic.descent_path(expr, variables, start(name, getattr(torch, dtype)), lr, int(steps)).tolist()


def path_key(name: str, dtype: torch.dtype, num_steps: int | None = None) -> str:
    return f"{name}/{dtype_name(dtype)}/{DESCENTS[name][4] if num_steps is None else num_steps}"


FEW_STEPS = ("parabola", "saddle_near", "four_vars")
EXACT_PATHS = Oracle(__file__, "paths", exact_path_rows,
                     [*(path_key(n, d) for n in DESCENTS for d in (torch.float64, torch.float32)),
                      *(path_key(n, torch.float64, k) for n in FEW_STEPS for k in (0, 1))])


def exact_path(name: str, dtype: torch.dtype, num_steps: int | None = None) -> torch.Tensor:
    return torch.tensor(EXACT_PATHS(path_key(name, dtype, num_steps)), dtype=torch.float64)


def check_path(got: object, x0: torch.Tensor, want: torch.Tensor, dtype: torch.dtype, what: str) -> None:
    """Shape, dtype, row 0 exactly x0, then every row against the exact path."""
    value = assert_tensor(got, what, shape=tuple(want.shape), dtype=dtype)
    if not torch.equal(value[0], x0):
        raise CheckFailure(f"{what}: row 0 should be x0 itself")
    rtol, atol = PATH_TOL[dtype]
    assert_close(value, want, what, rtol=rtol, atol=atol, dtype=dtype)


@DESCENT
@per_dtype
@pytest.mark.parametrize("name", list(DESCENTS))
def test_gradient_descent(submission, name, dtype):
    _, _, _, lr, steps = DESCENTS[name]
    x0 = start(name, dtype)
    got = submission.gradient_descent(spec(name), x0, lr, steps)
    check_path(got, x0, exact_path(name, dtype), dtype, f"the {str(dtype)[6:]} trajectory [{name}]")


@DESCENT
@pytest.mark.parametrize("name", FEW_STEPS)
@pytest.mark.parametrize("num_steps", [0, 1])
def test_few_steps(submission, name, num_steps):
    x0 = start(name, torch.float64)
    got = submission.gradient_descent(spec(name), x0, DESCENTS[name][3], num_steps)
    check_path(got, x0, exact_path(name, torch.float64, num_steps), torch.float64,
               f"the trajectory with num_steps={num_steps} [{name}]")


@DESCENT
def test_geometric_trajectory(submission):
    """On x**2 - y**2 from (1, 0.01) with lr 0.1: x shrinks by 0.8, y grows by 1.2 each step."""
    x0 = start("saddle_near", torch.float64)
    got = submission.gradient_descent(spec("saddle_near"), x0, 0.1, 25)
    want = torch.tensor([[0.8**t, 0.01 * 1.2**t] for t in range(26)], dtype=torch.float64)
    check_path(got, x0, want, torch.float64, "the trajectory on the saddle")


@DESCENT
@per_dtype
def test_descent_input_not_modified(submission, dtype):
    x0 = start("trig_mix", dtype)
    _, _, _, lr, steps = DESCENTS["trig_mix"]
    got, (_, after, _, _), _ = submission.gradient_descent.with_args(spec("trig_mix"), x0.clone(), lr, steps)
    check_path(got, x0, exact_path("trig_mix", dtype), dtype, "the trajectory")
    check_unmodified("gradient_descent", x0, after)

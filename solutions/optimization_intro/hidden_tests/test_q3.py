"""Hidden tests for q3: the Hessian, against ``sympy.hessian``.

Polynomial, trigonometric and mixed functions of 1 to 4 variables (an affine
one, whose Hessian is zero, included), at several points (some seeded), in
float64 and float32; the result's shape ``(k, k)`` and dtype; the point left
alone. The tolerance is relative to the
Hessian's largest entry: correct float64 autograd code errs by about 1e-16 of
it, correct float32 code by about 1e-7 (measured: autograd.functional,
torch.func.hessian, jacfwd(jacrev), nested autograd.grad loops).
"""

from __future__ import annotations

import random

import pytest
import sympy
import torch

from grader.checks import symbolic
from grader.checks.numeric import assert_close, assert_tensor
from grader.checks.oracle import Oracle
from grader.errors import CheckFailure
from grader.specs import Vector

pytestmark = pytest.mark.question("q3", part="hessian",
                                  hint="hessian(fn, x): the (k, k) matrix of second derivatives at x, in x's dtype")

x, y, z, w = sympy.symbols("x y z w")
TOL = {torch.float64: 1e-10, torch.float32: 2e-5}
per_dtype = pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])


def random_polynomial(seed: int) -> sympy.Expr:
    """A seeded polynomial of degree up to 4 in four variables, every variable in a cross term."""
    rng = random.Random(seed)
    variables = [x, y, z, w]
    expr = sympy.Integer(0)
    for _ in range(8):
        powers = [rng.randint(0, 2) for _ in variables]
        if sum(powers) < 2:
            powers[rng.randrange(4)] += 2
        expr += rng.choice([-1, 1]) * rng.randint(1, 9) * sympy.Mul(*(v**p for v, p in zip(variables, powers,
                                                                                             strict=True)))
    return expr + x * y * z * w


# name -> (expression, variables, points)
CASES: dict[str, tuple[sympy.Expr, tuple[sympy.Symbol, ...], tuple[tuple[float, ...], ...]]] = {
    "cubic_1d": (x**3, (x,), ((0.0,), (1.5,), (-2.25,))),
    "sin_exp_1d": (sympy.sin(x) * sympy.exp(x), (x,), ((0.3,), (-1.7,))),
    "saddle": (x**2 - y**2, (x, y), ((0.0, 0.0), (1.0, -2.0))),
    "quartic_bowl": (x**4 + y**4, (x, y), ((0.0, 0.0), (0.5, -1.25))),
    "rosenbrock": ((1 - x) ** 2 + 100 * (y - x**2) ** 2, (x, y), ((1.0, 1.0), (-1.2, 1.0))),
    "trig_product": (x**2 * y + sympy.sin(x * y), (x, y), ((1.0, 2.0), (-0.4, 0.9))),
    "exp_cos": (sympy.exp(x) * sympy.cos(y) + x * y**3, (x, y), ((0.2, -1.1), (1.0, 3.0))),
    "three_trig": (sympy.sin(x + 2 * y) * sympy.cos(z) + x**2 * z, (x, y, z), ((0.1, 0.2, 0.3), (1.0, -1.0, 2.0))),
    "three_poly": (x * y * z + x**2 * z - 3 * y**3 + z**4 / 4, (x, y, z), ((1.0, 2.0, 3.0), (-0.5, 0.0, 1.5))),
    "four_mix": (sympy.log(1 + x**2 + y**2) + z * w * sympy.tanh(x - w) + sympy.atan(z * y), (x, y, z, w),
                 ((0.5, -0.5, 1.0, 2.0), (0.0, 0.0, 0.0, 0.0))),
    "four_poly": (random_polynomial(31), (x, y, z, w), ((1.0, -1.0, 0.5, 2.0), (0.25, 0.75, -1.5, -0.5))),
    "four_poly_b": (random_polynomial(32), (x, y, z, w), ((-1.0, 0.5, 0.5, 1.0),)),
    # Valid fns whose gradient does not depend on x, everywhere or in one
    # coordinate: the Hessian is zero, or zero in that row and column. For the
    # affine one the gradient is a constant that does not require grad: a
    # second autograd.grad of it raises unless the code sees that its row is 0
    # (torch.autograd.functional.hessian and torch.func.hessian give zeros).
    "affine": (2 * x - 3 * y + z / 2 + 1, (x, y, z), ((0.0, 0.0, 0.0), (1.5, -2.0, 0.25))),
    "linear_in_y": (x**2 + 3 * y, (x, y), ((1.0, -1.0),)),
}
ITEMS = [(name, i) for name, (_, _, pts) in CASES.items() for i in range(len(pts))]
SEEDED = [("three_trig", 100), ("four_mix", 101), ("four_poly", 102), ("rosenbrock", 103), ("exp_cos", 104)]


def point(name: str, index: int, dtype: torch.dtype) -> torch.Tensor:
    """The case's ``index``-th point, or (index >= 100) a seeded one in [-2, 2]^k."""
    _, variables, points = CASES[name]
    if index < 100:
        return torch.tensor(points[index], dtype=torch.float64).to(dtype)
    gen = torch.Generator().manual_seed(index)
    return (torch.rand(len(variables), generator=gen, dtype=torch.float64) * 4 - 2).to(dtype)


def exact_hessian(key: str) -> list[list[float]]:
    """sympy's Hessian for ``name/index/dtype``, at the point as sent (float32-rounded for float32)."""
    name, index, dtype = key.split("/")
    expr, variables, _ = CASES[name]
    return symbolic.hessian_at(expr, variables, point(name, int(index), getattr(torch, dtype))).tolist()


def key(name: str, index: int, dtype: torch.dtype) -> str:
    return f"{name}/{index}/{str(dtype).removeprefix('torch.')}"


# sympy's Hessians at 50 digits take most of a second: computed when the assignment is authored.
EXACT = Oracle(__file__, "hessians", exact_hessian,
               [key(n, i, d) for n, i in ITEMS + SEEDED for d in (torch.float64, torch.float32)])


def exact(name: str, index: int, dtype: torch.dtype) -> torch.Tensor:
    """sympy's Hessian of the case at the point as sent."""
    return torch.tensor(EXACT(key(name, index, dtype)), dtype=torch.float64)


def check_hessian(got: object, want: torch.Tensor, dtype: torch.dtype, what: str) -> None:
    """Shape, dtype and entries within TOL of the largest entry."""
    k = want.shape[0]
    assert_tensor(got, what, shape=(k, k), dtype=dtype)
    scale = max(1.0, float(want.abs().max()))
    assert_close(got, want, what, rtol=TOL[dtype], atol=TOL[dtype] * scale, dtype=dtype)


@per_dtype
@pytest.mark.parametrize(("name", "index"), ITEMS + SEEDED, ids=[f"{n}-{i}" for n, i in ITEMS + SEEDED])
def test_hessian(submission, name, index, dtype):
    expr, variables, _ = CASES[name]
    p = point(name, index, dtype)
    got = submission.hessian(Vector(expr, variables), p)
    check_hessian(got, exact(name, index, dtype), dtype, f"hessian at a {str(dtype)[6:]} point [{name}]")


@per_dtype
def test_point_not_modified(submission, dtype):
    expr, variables, _ = CASES["three_trig"]
    p = point("three_trig", 1, dtype)
    got, (_, after), _ = submission.hessian.with_args(Vector(expr, variables), p.clone())
    check_hessian(got, exact("three_trig", 1, dtype), dtype, "hessian")
    if not (isinstance(after, torch.Tensor) and after.dtype == dtype and torch.equal(after, p)):
        raise CheckFailure("hessian modified the point x in place")


def test_symmetric_for_a_non_polynomial(submission):
    """The Hessian of a smooth function is symmetric."""
    expr, variables, _ = CASES["four_mix"]
    got = assert_tensor(submission.hessian(Vector(expr, variables), point("four_mix", 0, torch.float64)),
                        "hessian", shape=(4, 4), dtype=torch.float64)
    assert_close(got, got.T.clone(), "hessian against its transpose", rtol=1e-10, atol=1e-10)

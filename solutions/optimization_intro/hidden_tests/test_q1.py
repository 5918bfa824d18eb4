"""Hidden tests for q1: the risk f and the empirical risk g, against sympy.

Values and autograd derivatives at many points, in every shape (0-d
included) and in float64 and float32; the dtype kept; the input left alone.
Expected values are exact (sympy at 50 digits, at the very entries sent).
The tolerances cover the rounding of a correct implementation in the
input's dtype with a wide margin: float64 code errs by about 1e-14 here;
float32 code, on inputs within |x| <= 3, by under 4e-6 in values and 3e-5
in derivatives.
"""

from __future__ import annotations

import pytest
import sympy
import torch

from grader.checks import symbolic
from grader.checks.numeric import assert_close, assert_tensor
from grader.checks.oracle import Oracle
from grader.errors import CheckFailure

X = sympy.Symbol("x")
EXPRS = {
    "f": X * sympy.cos(sympy.pi * X),
    "g": X * sympy.cos(sympy.pi * X) + sympy.Rational(1, 5) * sympy.cos(5 * sympy.pi * X),
}
FUNCTIONS = [
    pytest.param("f", id="f", marks=pytest.mark.question(
        "q1", part="f", hint="f(x) = x * cos(pi * x): elementwise, any shape, x's dtype, differentiable")),
    pytest.param("g", id="g", marks=pytest.mark.question(
        "q1", part="g", hint="g(x) = f(x) + 0.2 * cos(5 * pi * x): elementwise, any shape, x's dtype, differentiable")),
]
SHAPES = [(), (9,), (3, 5), (2, 3, 4)]
per_function = pytest.mark.parametrize("name", FUNCTIONS)
per_dtype = pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
per_shape = pytest.mark.parametrize("shape", SHAPES,
                                    ids=lambda shape: "x".join(map(str, shape)) or "0d")

# (rtol, atol) of values and of derivatives, and the range of the inputs, per dtype.
VALUE_TOL = {torch.float64: (1e-9, 1e-9), torch.float32: (1e-5, 5e-5)}
DERIVATIVE_TOL = {torch.float64: (1e-9, 1e-9), torch.float32: (1e-4, 3e-4)}
RANGE = {torch.float64: 10.0, torch.float32: 3.0}
SPECIAL = (0.0, 0.5, -1.0, 1.0, -0.5, 1.5, 2.0, -2.5)


def points(shape: tuple[int, ...], dtype: torch.dtype, salt: int) -> torch.Tensor:
    """Seeded inputs, the first entries the special points."""
    gen = torch.Generator().manual_seed(100 * salt + len(shape))
    x = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * RANGE[dtype]
    flat = x.reshape(-1)
    if flat.numel() > 1:
        n = min(flat.numel(), len(SPECIAL))
        flat[:n] = torch.tensor(SPECIAL[:n], dtype=torch.float64)
    return flat.reshape(shape).to(dtype)


def case_key(name: str, shape: tuple[int, ...], dtype: torch.dtype, salt: int) -> str:
    return f"{name}/{'x'.join(map(str, shape))}/{str(dtype).removeprefix('torch.')}/{salt}"


def exact_values(key: str) -> dict[str, list[float]]:
    """sympy's values and derivatives at the points of ``name/shape/dtype/salt``, flattened."""
    name, shape, dtype, salt = key.split("/")
    x = points(tuple(int(n) for n in shape.split("x") if n), getattr(torch, dtype), int(salt))
    return {"values": symbolic.values(EXPRS[name], X, x).reshape(-1).tolist(),
            "derivatives": symbolic.derivative_values(EXPRS[name], X, x).reshape(-1).tolist()}


DTYPES = (torch.float64, torch.float32)
# sympy's values at 50 digits take a fifth of a second: computed when the assignment is authored.
EXACT = Oracle(__file__, "values", exact_values, [
    *(case_key(n, s, d, salt) for n in EXPRS for s in SHAPES for d in DTYPES for salt in (1, 2)),
    *(case_key(n, (401,), torch.float64, 3) for n in EXPRS),
    *(case_key(n, (6,), d, 5) for n in EXPRS for d in DTYPES),
])


def case(name: str, shape: tuple[int, ...], dtype: torch.dtype, salt: int) -> tuple[torch.Tensor, ...]:
    """Seeded inputs and their exact values and derivatives."""
    exact = EXACT(case_key(name, shape, dtype, salt))
    return (points(shape, dtype, salt), torch.tensor(exact["values"], dtype=torch.float64).reshape(shape),
            torch.tensor(exact["derivatives"], dtype=torch.float64).reshape(shape))


def check_unmodified(name: str, before: torch.Tensor, after: object) -> None:
    """Fail if the function changed its input tensor."""
    if not (isinstance(after, torch.Tensor) and after.dtype == before.dtype and torch.equal(after, before)):
        raise CheckFailure(f"{name} modified its input tensor in place")


@per_function
@per_dtype
@per_shape
def test_values(submission, name, shape, dtype):
    x, want, _ = case(name, shape, dtype, 1)
    rtol, atol = VALUE_TOL[dtype]
    assert_close(getattr(submission, name)(x), want, f"{name}(x) for a {str(dtype)[6:]} input of shape {shape}",
                 rtol=rtol, atol=atol, dtype=dtype)


@per_function
@per_dtype
@per_shape
def test_autograd_derivative(submission, name, shape, dtype):
    x, want, dwant = case(name, shape, dtype, 2)
    value, grad = getattr(submission, name).grad(x)
    what = f"for a {str(dtype)[6:]} input of shape {shape}"
    rtol, atol = VALUE_TOL[dtype]
    assert_close(value, want, f"{name}(x) {what}", rtol=rtol, atol=atol, dtype=dtype)
    rtol, atol = DERIVATIVE_TOL[dtype]
    assert_close(grad, dwant, f"the autograd derivative of {name} {what}", rtol=rtol, atol=atol, dtype=dtype)


@per_function
def test_many_points(submission, name):
    x, want, dwant = case(name, (401,), torch.float64, 3)
    value, grad = getattr(submission, name).grad(x)
    assert_close(value, want, f"{name}(x) at 401 points in [-10, 10]", rtol=1e-9, atol=1e-9)
    assert_close(grad, dwant, f"the autograd derivative of {name} at 401 points in [-10, 10]", rtol=1e-9, atol=1e-9)


@per_function
def test_column_shape_kept(submission, name):
    x = points((4, 1), torch.float64, 4)
    assert_tensor(getattr(submission, name)(x), f"{name}(x) for an input of shape (4, 1)",
                  shape=(4, 1), dtype=torch.float64)


@per_function
@per_dtype
def test_input_not_modified(submission, name, dtype):
    x, want, _ = case(name, (6,), dtype, 5)
    result, (after,), _ = getattr(submission, name).with_args(x.clone())
    rtol, atol = VALUE_TOL[dtype]
    assert_close(result, want, f"{name}(x)", rtol=rtol, atol=atol, dtype=dtype)
    check_unmodified(name, x, after)

"""The sympy helpers give the exact answers the grading tests rely on."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy
import torch

from grader.checks import symbolic

x, y, z = sympy.symbols("x y z")
F = x * sympy.cos(sympy.pi * x)
G = F + sympy.Rational(1, 5) * sympy.cos(5 * sympy.pi * x)


def test_values_match_math_and_keep_the_shape() -> None:
    t = torch.tensor([[0.25, -1.5], [2.0, 0.1]], dtype=torch.float64)
    got = symbolic.values(F, x, t)
    assert got.dtype == torch.float64 and got.shape == (2, 2)
    want = [[v * math.cos(math.pi * v) for v in row] for row in t.tolist()]
    assert torch.allclose(got, torch.tensor(want, dtype=torch.float64), rtol=1e-15, atol=1e-15)


def test_values_use_a_float32_entry_as_it_is() -> None:
    t = torch.tensor(0.1, dtype=torch.float32)
    got = symbolic.values(x, x, t)
    assert got.shape == () and float(got) == float(t) != 0.1


def test_values_are_exact_where_float64_cancels() -> None:
    # 1 - cos(1e-8) is 5e-17; evaluated in float64 it is 0.
    got = float(symbolic.values(1 - sympy.cos(x), x, torch.tensor(1e-8, dtype=torch.float64)))
    assert got == pytest.approx(5e-17, rel=1e-12)


def test_derivative_of_tanh_at_four() -> None:
    got = symbolic.derivative_values(sympy.tanh(x), x, torch.tensor(4.0, dtype=torch.float64))
    assert float(got) == pytest.approx(1 - math.tanh(4) ** 2, rel=1e-13)


def test_second_derivative() -> None:
    t = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    assert symbolic.derivative_values(x**3, x, t, order=2).tolist() == [0.0, 6.0, 12.0]


def test_value_and_gradient_at_a_point() -> None:
    point = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert symbolic.value_at(x**2 - y**2, [x, y], point) == -3.0
    assert symbolic.gradient_at(x**2 - y**2, [x, y], point).tolist() == [2.0, -4.0]


def test_hessian_at_a_point_is_sympys() -> None:
    expr = x**2 * y + sympy.sin(x * y) + z**3 * x
    point = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    got = symbolic.hessian_at(expr, [x, y, z], point)
    s, c = math.sin(2.0), math.cos(2.0)
    want = torch.tensor([
        [2 * 2 - 4 * s, 2 * 1 + c - 2 * s, 3.0],
        [2 * 1 + c - 2 * s, -s, 0.0],
        [3.0, 0.0, 6 * -1.0 * 1.0],
    ], dtype=torch.float64)
    assert got.shape == (3, 3) and got.dtype == torch.float64
    assert torch.allclose(got, want, rtol=1e-14, atol=1e-14)


def test_descent_path_of_a_quadratic_is_geometric() -> None:
    x0 = torch.tensor([1.0, 0.01], dtype=torch.float64)
    path = symbolic.descent_path(x**2 - y**2, [x, y], x0, 0.1, 5)
    assert path.shape == (6, 2)
    want = torch.tensor([[0.8**t, 0.01 * 1.2**t] for t in range(6)], dtype=torch.float64)
    assert torch.allclose(path, want, rtol=1e-15, atol=0)


def test_descent_path_of_one_variable_keeps_the_0d_shape() -> None:
    path = symbolic.descent_path(sympy.tanh(x), [x], torch.tensor(4.0, dtype=torch.float64), 0.5, 2)
    assert path.shape == (3,)
    x1 = 4.0 - 0.5 * (1 - math.tanh(4.0) ** 2)
    assert path[0] == 4.0 and float(path[1]) == pytest.approx(x1, rel=1e-15)
    assert symbolic.descent_path(x**2, [x], torch.tensor(1.0), 0.1, 0).tolist() == [1.0]


def test_local_minima_of_the_chapters_risk() -> None:
    got = symbolic.local_minima(F, x, -1.0, 2.0)
    assert got == pytest.approx([-0.27385, 1.09041], abs=1e-5)
    d1 = sympy.lambdify(x, sympy.diff(F, x), modules="mpmath")
    with mpmath.workdps(50):
        assert all(abs(d1(mpmath.mpf(r))) < 1e-15 for r in got)


def test_local_minima_leave_out_the_ends_and_the_maxima() -> None:
    assert symbolic.local_minima(x**2, x, 0.0, 1.0) == []
    assert symbolic.local_minima(-(x**2), x, -1.0, 1.0) == []
    assert symbolic.local_minima(x**2, x, -1.0, 1.0) == [0.0]  # a root on the scan grid
    assert symbolic.local_minima((x**2 - 1) ** 2, x, -2.0, 2.0) == pytest.approx([-1.0, 1.0], abs=1e-15)


def test_global_minimum_of_the_chapters_risks() -> None:
    assert symbolic.global_minimum(G, x, 0.5, 1.5) == pytest.approx((1.01698, -1.20846), abs=1e-5)
    assert symbolic.global_minimum(F, x, 0.5, 1.5) == pytest.approx((1.09041, -1.04672), abs=1e-5)


def test_global_minimum_at_an_end() -> None:
    assert symbolic.global_minimum(x**3 - 3 * x, x, -3.0, 3.0) == (-3.0, -18.0)
    assert symbolic.global_minimum(sympy.exp(x), x, 0.0, 1.0) == (0.0, 1.0)
    candidates = symbolic.minimum_candidates(x**3 - 3 * x, x, -3.0, 3.0)
    assert [c[0] for c in candidates] == pytest.approx([-3.0, 1.0, 3.0])


def test_contract_violations() -> None:
    assert symbolic.contract_violations(F, x, -1.0, 2.0) == []
    assert symbolic.contract_violations(G, x, 0.5, 1.5) == []
    assert any("below" in p for p in symbolic.contract_violations(x**3, x, -1.0, 1.0))
    assert any("end" in p for p in symbolic.contract_violations((x - 0.005) ** 2, x, 0.0, 1.0))
    assert any("closer" in p for p in symbolic.contract_violations(sympy.sin(400 * x), x, 0.0, 0.1))
    assert any("below" in p for p in symbolic.contract_violations(x**2 / 100, x, -1.0, 1.0))

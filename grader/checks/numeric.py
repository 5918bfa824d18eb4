"""Comparing a submission's tensors and numbers with expected ones."""

from __future__ import annotations

from typing import Any

import torch

from grader.errors import CheckFailure


def assert_tensor(value: Any, what: str, *, shape: tuple[int, ...] | None = None,
                  dtype: torch.dtype | None = None) -> torch.Tensor:
    """Check that ``value`` is a tensor of the given shape and dtype; return it."""
    if not isinstance(value, torch.Tensor):
        raise CheckFailure(f"{what} should be a torch.Tensor, got {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailure(f"{what} has shape {tuple(value.shape)}, expected {tuple(shape)}")
    if dtype is not None and value.dtype != dtype:
        raise CheckFailure(f"{what} has dtype {value.dtype}, expected {dtype}")
    return value


def assert_close(actual: Any, expected: torch.Tensor, what: str, *, rtol: float = 1e-6, atol: float = 1e-8,
                 dtype: torch.dtype | None = None) -> None:
    """Check a tensor against expected values, elementwise within ``atol + rtol * |expected|``.

    Shape and dtype (``expected``'s unless ``dtype`` is given) must match.
    The message counts the wrong entries, and its detail (public tests only,
    :class:`~grader.errors.CheckFailure`) gives the largest error, never the
    expected values themselves.
    """
    value = assert_tensor(actual, what, shape=tuple(expected.shape), dtype=dtype or expected.dtype)
    got, want = value.detach().to(torch.float64), expected.detach().to(torch.float64)
    bad = ~torch.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if bool(bad.any()):
        error = (got - want).abs()[bad]
        worst = float(error.nan_to_num(nan=float("inf")).max())
        raise CheckFailure(f"{what} is wrong at {int(bad.sum())} of {bad.numel()} entries",
                           f"largest error {worst:.3g}")


def assert_number(actual: Any, expected: float, what: str, *, tol: float) -> float:
    """Check a real number (a Python or 0-d tensor value) within ``tol`` of ``expected``."""
    if isinstance(actual, torch.Tensor) and actual.numel() == 1:
        actual = actual.item()
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        raise CheckFailure(f"{what} should be a number, got {type(actual).__name__}")
    if not abs(float(actual) - expected) <= tol:
        raise CheckFailure(f"{what} is not within {tol:g} of the right value",
                           f"off by {abs(float(actual) - expected):.3g}")
    return float(actual)

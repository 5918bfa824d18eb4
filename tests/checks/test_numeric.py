"""Numeric checks: their messages say what is wrong; how far from the expected value, only for public tests."""

from __future__ import annotations

import pytest
import torch

from grader.checks.numeric import assert_close, assert_number
from grader.errors import CheckFailure
from grader.plugin import _message


def test_a_wrong_tensor_counts_entries_and_gives_the_largest_error_as_detail() -> None:
    with pytest.raises(CheckFailure) as failure:
        assert_close(torch.tensor([1.0, 2.5, 3.0]), torch.tensor([1.0, 2.0, 3.0]), "f(x)")
    assert str(failure.value) == "f(x) is wrong at 1 of 3 entries (largest error 0.5)"
    assert _message(failure.value, "public") == "f(x) is wrong at 1 of 3 entries (largest error 0.5)"
    assert _message(failure.value, "hidden") == "f(x) is wrong at 1 of 3 entries"


def test_a_wrong_number_says_the_tolerance_and_the_distance_as_detail() -> None:
    with pytest.raises(CheckFailure) as failure:
        assert_number(0.901, 0.9014, "x_star", tol=1e-6)
    assert _message(failure.value, "public") == "x_star is not within 1e-06 of the right value (off by 0.0004)"
    assert _message(failure.value, "hidden") == "x_star is not within 1e-06 of the right value"
    assert assert_number(torch.tensor(0.9014), 0.9014, "x_star", tol=1e-6) == pytest.approx(0.9014)


def test_a_failure_without_detail_reads_the_same_everywhere() -> None:
    failure = CheckFailure("hessian modified the point x in place")
    assert _message(failure, "hidden") == _message(failure, "public") == "hessian modified the point x in place"

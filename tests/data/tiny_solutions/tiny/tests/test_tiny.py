"""Public tests of the tiny assignment."""

import pytest
import torch

from grader.checks.numeric import assert_close


@pytest.mark.question("q1", part="add", hint="add(a, b) returns a + b")
def test_add(submission):
    assert submission.add(2, 3) == 5


@pytest.mark.question("q1", part="add")
def test_add_floats(submission):
    """add must work on floats too"""
    assert submission.add(0.5, 0.25) == 0.75


@pytest.mark.question("q2", part="square", hint="square(x) = x * x, elementwise")
def test_square(submission):
    x = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    assert_close(submission.square(x), x * x, "square(x)")


@pytest.mark.question("q2", part="halve", hint="halve(x) = x / 2")
def test_halve(submission):
    assert submission.halve(3.0) == 1.5

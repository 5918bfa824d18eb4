"""Public tests for q1: the risk f and the empirical risk g."""

import math

import pytest
import torch

from grader.checks.numeric import assert_close


@pytest.mark.question("q1", part="f", hint="f(x) = x * cos(pi * x), elementwise, keeping x's dtype")
def test_f_values(submission):
    x = torch.tensor([0.0, 0.5, 1.0, 1.5, -1.0], dtype=torch.float64)
    expected = torch.tensor([xi * math.cos(math.pi * xi) for xi in x.tolist()], dtype=torch.float64)
    assert_close(submission.f(x), expected, "f(x)", atol=1e-12)


@pytest.mark.question("q1", part="g", hint="g(x) = f(x) + 0.2 * cos(5 * pi * x), elementwise")
def test_g_values(submission):
    x = torch.tensor([0.0, 0.5, 1.0, 1.5], dtype=torch.float64)
    expected = torch.tensor([xi * math.cos(math.pi * xi) + 0.2 * math.cos(5 * math.pi * xi) for xi in x.tolist()],
                            dtype=torch.float64)
    assert_close(submission.g(x), expected, "g(x)", atol=1e-12)

"""Public tests for q4: classifying the chapter's critical points from their Hessians.

The Hessians are exact (worked out by hand); the label follows the rule in
the notebook: a saddle if some eigenvalue is > tol and some < -tol; else a
minimum if all are > tol; else a maximum if all are < -tol; else degenerate.
"""

import pytest
import torch

pytestmark = pytest.mark.question(
    "q4", part="classify_critical_point",
    hint="classify_critical_point: saddle if eigenvalues > tol and < -tol; else minimum / maximum / degenerate")


def expect(ok, message):
    """Fail with ``message`` unless ``ok``.

    (An explicit raise rather than ``assert``: the message reaches you as written.)
    """
    if not ok:
        raise AssertionError(message)


def expect_label(got, want, what):
    expect(got == want, f"{what}: expected {want!r}, got {got!r}")


def test_chapter_saddle(submission):
    """x**2 - y**2 at the origin: Hessian diag(2, -2), a saddle."""
    H = torch.tensor([[2.0, 0.0], [0.0, -2.0]], dtype=torch.float64)
    expect_label(submission.classify_critical_point(H), "saddle", "diag(2, -2)")


def test_chapter_degenerate_cases(submission):
    """x**3 at 0 (Hessian [[0]]) and x**4 + y**4 at the origin (zero Hessian): the test says nothing."""
    zero1, zero2 = torch.zeros(1, 1, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64)
    expect_label(submission.classify_critical_point(zero1), "degenerate", "[[0]]")
    expect_label(submission.classify_critical_point(zero2), "degenerate", "zeros(2, 2)")


def test_minimum_and_maximum(submission):
    """x**2 + y**2 and -(x**2 + y**2) at the origin."""
    H = 2 * torch.eye(2, dtype=torch.float64)
    expect_label(submission.classify_critical_point(H), "minimum", "2 I")
    expect_label(submission.classify_critical_point(-H), "maximum", "-2 I")


def test_eigenvalues_not_diagonal(submission):
    """[[1, 2], [2, 1]] has eigenvalues 3 and -1: a saddle, though its diagonal is positive."""
    H = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64)
    expect_label(submission.classify_critical_point(H), "saddle", "[[1, 2], [2, 1]]")


def test_tolerance(submission):
    """Eigenvalues within tol of zero count as zero: diag(1, 1e-9) is degenerate, unless tol is smaller."""
    H = torch.diag(torch.tensor([1.0, 1e-9], dtype=torch.float64))
    expect_label(submission.classify_critical_point(H), "degenerate", "diag(1, 1e-9) with tol=1e-6")
    expect_label(submission.classify_critical_point(H, tol=1e-12), "minimum", "diag(1, 1e-9) with tol=1e-12")


def test_float32(submission):
    """A float32 Hessian works too."""
    H = torch.tensor([[-3.0, 1.0], [1.0, -2.0]], dtype=torch.float32)
    expect_label(submission.classify_critical_point(H), "maximum", "[[-3, 1], [1, -2]] in float32")

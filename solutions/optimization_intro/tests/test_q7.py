"""Public tests for q7 (exercise 2): symmetric random matrices and the signs of their eigenvalues."""

from fractions import Fraction

import pytest
import torch

from grader.errors import CheckFailure
from grader.specs import Law


@pytest.mark.question("q7", part="sample_symmetric_matrices",
                      hint="shape (num, n, n); draw the entries with i <= j from sample_entries, then mirror them")
def test_sample_shape_and_symmetry(submission):
    matrices = submission.sample_symmetric_matrices(5, 3, Law.normal(), torch.Generator().manual_seed(0))
    if not isinstance(matrices, torch.Tensor) or tuple(matrices.shape) != (5, 3, 3):
        raise CheckFailure(f"expected a tensor of shape (5, 3, 3), got {getattr(matrices, 'shape', type(matrices))}")
    if not torch.equal(matrices, matrices.transpose(-1, -2)):
        raise CheckFailure("the matrices are not exactly symmetric")


@pytest.mark.question("q7", part="sample_symmetric_matrices",
                      hint="take every random number from sample_entries(shape, generator)")
def test_sample_rademacher_entries_are_plus_or_minus_one(submission):
    matrices = submission.sample_symmetric_matrices(50, 4, Law.rademacher(), torch.Generator().manual_seed(1))
    values = set(torch.unique(matrices).tolist())
    if not values <= {-1.0, 1.0}:
        raise CheckFailure(f"with Rademacher entries every entry is -1 or 1, but the matrices contain {sorted(values)}")


@pytest.mark.question("q7", part="eigenvalue_sign_fractions",
                      hint="fractions of ALL eigenvalues of ALL matrices: > tol, < -tol, |lam| <= tol")
def test_fractions_of_diagonal_matrices(submission):
    matrices = torch.diag_embed(torch.tensor([[1.0, -1.0], [0.0, 2.0]], dtype=torch.float64))
    got = submission.eigenvalue_sign_fractions(matrices)
    assert tuple(round(float(v), 12) for v in got) == (0.5, 0.25, 0.25), f"expected (0.5, 0.25, 0.25), got {got}"


@pytest.mark.question("q7", part="exact_sign_probabilities_2x2",
                      hint="enumerate the 8 matrices [[a, b], [b, c]] with a, b, c in {-1, 1} exactly")
def test_exact_rademacher(submission):
    got = submission.exact_sign_probabilities_2x2([-1, 1], [Fraction(1, 2), Fraction(1, 2)])
    assert tuple(got) == (Fraction(3, 8), Fraction(3, 8), Fraction(1, 4)), f"expected (3/8, 3/8, 1/4), got {got}"
    assert all(not isinstance(v, float) for v in got), "return exact Fractions, not floats"


@pytest.mark.question("q7", part="zero_eigenvalue_counterexample",
                      hint="(values, probs): p(x) = p(-x), probabilities summing to 1")
def test_counterexample_is_a_law(submission):
    values, probs = submission.zero_eigenvalue_counterexample()
    assert len(values) == len(probs) > 0, "values and probs should have the same, non-zero length"
    assert sum(Fraction(p) for p in probs) == 1, "the probabilities must sum to exactly 1"

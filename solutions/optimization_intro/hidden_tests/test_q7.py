"""Hidden tests for q7 (exercise 2): eigenvalues of symmetric random matrices.

``sample_symmetric_matrices`` is graded by what it is, not by one generator
stream: exact symmetry; the upper-triangle entries follow the law (one-sample
tests, diagonal and off-diagonal apart, so ``(A + A.T) / 2`` is caught) for
Gaussian, uniform, Laplace, Rademacher and a discrete law with an atom at 0;
distinct free entries are independent; the draws come from the generator only.
Every Monte-Carlo check here has false-failure probability at most 1e-9 for a
correct submission (``grader.checks.montecarlo``), and sample sizes come from
``required_samples`` for the deviation each check must catch.

``eigenvalue_sign_fractions`` is deterministic: compared with exact counts on
matrices of known spectrum and on random ones (every eigenvalue far from
``+-tol`` compared to rounding), and on diagonal matrices with eigenvalues
exactly at ``+-tol`` (exact by any method), which count as zero. ``exact_sign_probabilities_2x2`` is compared
exactly with an independent sympy enumeration; floats where a rational is
asked for fail. The counterexample is checked exactly: a valid symmetric
discrete law is one (see ``test_counterexample``).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import pytest
import sympy
import torch

from grader.checks import montecarlo
from grader.checks.numeric import assert_tensor
from grader.checks.oracle import Oracle
from grader.errors import CheckFailure
from grader.specs import Law

SAMPLE = pytest.mark.question("q7", part="sample_symmetric_matrices",
                              hint="one draw of sample_entries per entry with i <= j, mirrored below the diagonal")
FRACTIONS = pytest.mark.question("q7", part="eigenvalue_sign_fractions",
                                 hint="count eigenvalues > tol, < -tol and within tol over all matrices")
EXACT = pytest.mark.question("q7", part="exact_sign_probabilities_2x2",
                             hint="enumerate a, b, c exactly with Fractions; the eigenvalues' signs follow "
                                  "from trace and determinant")
COUNTER = pytest.mark.question("q7", part="zero_eigenvalue_counterexample",
                               hint="a symmetric discrete law whose 2x2 matrices have a zero eigenvalue "
                                    "with positive probability")

LAWS = {
    "normal": Law.normal(0.0, 1.0),
    "uniform": Law.uniform(-1.0, 1.0),
    "laplace": Law.laplace(0.0, 1.0),
    "rademacher": Law.rademacher(),
    "atom_at_zero": Law.discrete([-2, 0, 1], [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)]),
}
# The smallest Kolmogorov distance between a law and the law of (a + b) / 2 of
# two of its draws, over the continuous laws above, is about 0.08 (Gaussian);
# 0.06 leaves room. Discrete laws: (a + b) / 2 puts mass off the atoms.
N_MATRICES = montecarlo.required_samples(0.06, miss=1e-9) // 3 + 1


def as_fraction(value: Any, what: str) -> Fraction:
    """An exact rational from a Fraction, an int or a sympy Rational; floats are refused."""
    if isinstance(value, bool):
        raise CheckFailure(f"{what} should be an exact rational, got a bool")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    raise CheckFailure(f"{what} should be an exact rational (Fraction), got {type(value).__name__}")


def sympy_sign_probabilities(values: list[Any], probs: list[Any]) -> tuple[Fraction, Fraction, Fraction]:
    """P(positive), P(negative), P(zero) of a uniformly picked eigenvalue, by sympy, exactly."""
    law = [(sympy.Rational(str(v)), sympy.Rational(str(p))) for v, p in zip(values, probs, strict=True)]
    totals = [sympy.Integer(0)] * 3
    for (a, pa), (b, pb), (c, pc) in itertools.product(law, repeat=3):
        for lam in sympy.Matrix([[a, b], [b, c]]).eigenvals(multiple=True):
            k = 0 if lam > 0 else 1 if lam < 0 else 2
            totals[k] += pa * pb * pc / 2
    positive, negative, zero = (Fraction(int(t.p), int(t.q)) for t in map(sympy.Rational, totals))
    return positive, negative, zero


# ---------------------------------------------------------------------- sampling


def draw(submission: Any, num: int, n: int, law: Law, seed: int) -> torch.Tensor:
    matrices = submission.sample_symmetric_matrices(num, n, law, torch.Generator().manual_seed(seed))
    return assert_tensor(matrices, "sample_symmetric_matrices(...)", shape=(num, n, n), dtype=torch.float64)


@SAMPLE
@pytest.mark.montecarlo(alpha=0.0, catches=())
@pytest.mark.parametrize("num, n", [(1, 1), (5, 2), (3, 4), (0, 3)])
def test_shape_and_exact_symmetry(submission: Any, seed: int, num: int, n: int) -> None:
    matrices = draw(submission, num, n, LAWS["normal"], seed)
    if not torch.equal(matrices, matrices.transpose(-1, -2)):
        raise CheckFailure("the matrices are not exactly symmetric: M[j, i] must equal M[i, j]")


@SAMPLE
@pytest.mark.montecarlo(alpha=1e-9, catches=("halved_sum",))
@pytest.mark.parametrize("name", sorted(LAWS))
def test_entries_follow_the_law(submission: Any, seed: int, name: str) -> None:
    law = LAWS[name]
    matrices = draw(submission, N_MATRICES, 3, law, seed)
    rows, cols = torch.triu_indices(3, 3, offset=1)
    diagonal = matrices.diagonal(dim1=-2, dim2=-1).reshape(-1)
    off = matrices[:, rows, cols].reshape(-1)
    montecarlo.one_sample_test(diagonal, law, alpha=5e-10, what=f"the diagonal entries ({name} law)")
    montecarlo.one_sample_test(off, law, alpha=5e-10, what=f"the entries above the diagonal ({name} law)")


@SAMPLE
@pytest.mark.montecarlo(alpha=1e-9, catches=())
@pytest.mark.parametrize("name", ["normal", "atom_at_zero"])
def test_free_entries_are_independent(submission: Any, seed: int, name: str) -> None:
    matrices = draw(submission, N_MATRICES, 3, LAWS[name], seed)
    pairs = {"M[0,1] and M[0,0]": (matrices[:, 0, 1], matrices[:, 0, 0]),
             "M[0,1] and M[1,2]": (matrices[:, 0, 1], matrices[:, 1, 2]),
             "M[0,0] and M[1,1]": (matrices[:, 0, 0], matrices[:, 1, 1]),
             "M[0,1] of consecutive matrices": (matrices[:-1, 0, 1], matrices[1:, 0, 1])}
    for what, (a, b) in pairs.items():
        montecarlo.independence_test(a, b, alpha=1e-9 / len(pairs), what=f"the entries {what}")


@SAMPLE
@pytest.mark.montecarlo(alpha=0.0, catches=("global_rng",))
def test_draws_come_from_the_generator_only(submission: Any, seed: int) -> None:
    first = draw(submission, 4, 3, LAWS["normal"], seed)
    submission.sample_symmetric_matrices(2, 2, LAWS["uniform"], torch.Generator().manual_seed(seed + 1))
    again = draw(submission, 4, 3, LAWS["normal"], seed)
    other = draw(submission, 4, 3, LAWS["normal"], seed + 1)
    if not torch.equal(first, again):
        raise CheckFailure("the same generator seed must give the same matrices: draw only from `generator`")
    if torch.equal(first, other):
        raise CheckFailure("different generator seeds gave the same matrices")


# ---------------------------------------------------------------------- sign fractions


def exact_fractions(matrices: torch.Tensor, tol: float) -> tuple[float, float, float]:
    lam = torch.linalg.eigvalsh(matrices.to(torch.float64))
    total = lam.numel()
    pos, neg = int((lam > tol).sum()), int((lam < -tol).sum())
    return pos / total, neg / total, (total - pos - neg) / total


def check_fractions(got: Any, want: tuple[float, float, float], what: str) -> None:
    """Three finite numbers summing to 1, each within 1e-12 of the exact count's fraction.

    The comparisons are written ``not (... <= tol)`` so that a NaN fails them
    (``abs(nan - w) > tol`` is False, and a stub returning NaNs passed).
    """
    if not (isinstance(got, (tuple, list)) and len(got) == 3):
        raise CheckFailure(f"{what} should be a tuple of three numbers")
    try:
        values = [float(v) for v in got]
    except (TypeError, ValueError):
        raise CheckFailure(f"{what} should be a tuple of three numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise CheckFailure(f"{what} should be three finite numbers, got {values}")
    if not abs(sum(values) - 1) <= 1e-9:
        raise CheckFailure(f"{what}: the three fractions sum to {sum(values):.6g}, not 1")
    if not all(abs(v - w) <= 1e-12 for v, w in zip(values, want, strict=True)):
        raise CheckFailure(f"{what}: the fractions are wrong")


def spectrum_matrices(spectra: list[list[float]], seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    out = []
    for spectrum in spectra:
        q, _ = torch.linalg.qr(torch.randn(len(spectrum), len(spectrum), generator=generator, dtype=torch.float64))
        out.append(q @ torch.diag(torch.tensor(spectrum, dtype=torch.float64)) @ q.T)
    matrices = torch.stack(out)
    return (matrices + matrices.transpose(-1, -2)) / 2


@FRACTIONS
@pytest.mark.montecarlo(alpha=0.0, catches=("ignores_tol",))
@pytest.mark.parametrize("tol", [1e-9, 1e-3])
def test_fractions_of_known_spectra(submission: Any, seed: int, tol: float) -> None:
    spectra = [[3.0, -2.0, 0.0], [5.0, 4.0 * tol, 1.0], [-1.0, -7.0, tol / 4], [0.0, 0.0, -tol * 3]]
    matrices = spectrum_matrices(spectra, seed)
    # The default tol is 1e-9: call without it then, so that the default is tested too.
    got = submission.eigenvalue_sign_fractions(matrices, tol) if tol != 1e-9 else submission.eigenvalue_sign_fractions(
        matrices)
    check_fractions(got, exact_fractions(matrices, tol), f"eigenvalue_sign_fractions(matrices, tol={tol:g})")


@FRACTIONS
def test_fractions_of_diagonal_matrices(submission: Any) -> None:
    matrices = torch.diag_embed(torch.tensor([[1.0, -1.0], [0.0, 2.0], [-3.0, -4.0]], dtype=torch.float64))
    # Eigenvalues 1, -1, 0, 2, -3, -4: two positive, three negative, one zero.
    check_fractions(submission.eigenvalue_sign_fractions(matrices), (2 / 6, 3 / 6, 1 / 6),
                    "eigenvalue_sign_fractions(diagonal matrices)")


# tol -> diagonals: eigenvalues exactly at +-tol are within tol of zero, not
# beyond it (the contract's "> tol" and "< -tol" are strict). Diagonal
# matrices with these entries have exactly these eigenvalues by any method
# (LAPACK leaves a diagonal matrix as it is); 0.5 is dyadic and 1e-9 is the
# very float the default tol is.
AT_TOL = {
    0.5: [[0.5, -0.5, 1.0], [2.0, -2.0, 0.25], [0.5, 0.5, -0.75]],
    None: [[1e-9, -1e-9, 1.0], [-1e-9, 0.0, -3.0]],
}


@FRACTIONS
@pytest.mark.parametrize("tol", list(AT_TOL), ids=["tol_0.5", "default_tol"])
def test_fractions_with_eigenvalues_exactly_at_tol(submission: Any, tol: float | None) -> None:
    """An eigenvalue equal to +-tol is within tol of zero: it counts as zero, not as positive or negative."""
    matrices = torch.diag_embed(torch.tensor(AT_TOL[tol], dtype=torch.float64))
    lam = [v for row in AT_TOL[tol] for v in row]
    limit = 1e-9 if tol is None else tol
    pos, neg = sum(v > limit for v in lam), sum(v < -limit for v in lam)
    want = (pos / len(lam), neg / len(lam), (len(lam) - pos - neg) / len(lam))
    got = (submission.eigenvalue_sign_fractions(matrices) if tol is None
           else submission.eigenvalue_sign_fractions(matrices, tol))
    check_fractions(got, want, f"eigenvalue_sign_fractions(diagonal matrices, tol={limit:g}) with eigenvalues "
                               "exactly at +-tol (within tol of zero)")


@FRACTIONS
@pytest.mark.parametrize("name, shift", [
    pytest.param("normal", 0.0, marks=pytest.mark.montecarlo(alpha=0, catches=())),
    pytest.param("rademacher", 0.0, marks=pytest.mark.montecarlo(alpha=0, catches=("ignores_tol",))),
    pytest.param("normal", 1.0, marks=pytest.mark.montecarlo(alpha=0, catches=())),
])
def test_fractions_of_random_matrices(submission: Any, seed: int, name: str, shift: float) -> None:
    """Matrices drawn here (not by the student), compared with exact counts: deterministic, whatever the seed."""
    generator = torch.Generator().manual_seed(seed)
    n = 3
    rows, cols = torch.triu_indices(n, n)
    draws = LAWS[name]((2000, rows.numel()), generator) + shift
    matrices = torch.zeros(2000, n, n, dtype=torch.float64)
    matrices[:, rows, cols] = draws
    matrices[:, cols, rows] = draws
    got = submission.eigenvalue_sign_fractions(matrices)
    check_fractions(got, exact_fractions(matrices, 1e-9), "eigenvalue_sign_fractions(random matrices)")


@SAMPLE
@pytest.mark.montecarlo(alpha=1e-9, catches=())
@pytest.mark.parametrize("name", ["normal", "rademacher"])
def test_sampled_spectrum_is_symmetric(submission: Any, seed: int, name: str) -> None:
    """Exercise 2.1 on the student's matrices: for a symmetric law, P(lam > 0) = P(lam < 0).

    Per matrix, (#positive - #negative) / n lies in [-1, 1] and has mean 0
    when the law is symmetric; matrices are independent, so Hoeffding bounds
    a correct sampler's false failure by 1e-9 (``mean_test``).
    """
    matrices = draw(submission, 2000, 3, LAWS[name], seed)
    lam = torch.linalg.eigvalsh(matrices)
    per_matrix = ((lam > 1e-9).double().sum(-1) - (lam < -1e-9).double().sum(-1)) / 3
    montecarlo.mean_test(per_matrix, 0.0, bound=(-1.0, 1.0), alpha=1e-9,
                         what="(positive - negative eigenvalues) / n of the sampled matrices")


# ---------------------------------------------------------------------- exact probabilities

EXACT_LAWS = {
    "rademacher": ([-1, 1], [Fraction(1, 2), Fraction(1, 2)]),
    "atom_at_zero": ([-1, 0, 1], [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)]),
    "only_zero": ([0], [1]),
    "all_positive": ([1, 2], [Fraction(1, 3), Fraction(2, 3)]),
    "repeated_values": ([1, 1, -1], [Fraction(1, 4), Fraction(1, 4), Fraction(1, 2)]),
    "zero_probability": ([-3, 5, 0], [Fraction(1, 2), Fraction(1, 2), 0]),
    "fraction_values": ([Fraction(1, 2), Fraction(-3, 2), 2], [Fraction(1, 6), Fraction(1, 3), Fraction(1, 2)]),
    "skewed": ([-1, 2, 3], [Fraction(3, 5), Fraction(1, 5), Fraction(1, 5)]),
}


def exact_as_text(name: str) -> list[str]:
    return [str(p) for p in sympy_sign_probabilities(*EXACT_LAWS[name])]


# sympy's enumeration takes a third of a second for the eight laws: done when the assignment is authored.
EXACT_PROBABILITIES = Oracle(__file__, "sign_probabilities", exact_as_text, sorted(EXACT_LAWS))


def expected_exact(name: str) -> tuple[Fraction, ...]:
    return tuple(Fraction(p) for p in EXACT_PROBABILITIES(name))


@EXACT
@pytest.mark.parametrize("name", sorted(EXACT_LAWS))
def test_exact_probabilities(submission: Any, name: str) -> None:
    values, probs = EXACT_LAWS[name]
    got = submission.exact_sign_probabilities_2x2(values, probs)
    if not (isinstance(got, (tuple, list)) and len(got) == 3):
        raise CheckFailure("exact_sign_probabilities_2x2 should return three exact probabilities")
    exact = tuple(as_fraction(v, "each probability") for v in got)
    if exact != expected_exact(name):
        raise CheckFailure(f"exact_sign_probabilities_2x2 is wrong for one of the laws ({name.replace('_', ' ')})")


# ---------------------------------------------------------------------- the counterexample


@COUNTER
def test_counterexample(submission: Any) -> None:
    """A valid symmetric discrete law: every such law is a counterexample, so nothing more is computed.

    With values ``v`` of masses ``p_v``, the matrix with a = b = c = v has
    determinant 0, so an eigenvalue picked of the two is 0 with probability
    at least ``sum_v p_v**3 / 2 > 0``; symmetry of the law gives ``P(lam > 0)
    = P(lam < 0) = (1 - P(lam = 0)) / 2 < 1/2``. (Checking that by
    enumeration cost the grader time cubic in the number of values the
    student chose, 2,001 values took hours, and could not fail.)
    """
    got = submission.zero_eigenvalue_counterexample()
    if not (isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(p, (list, tuple)) for p in got)):
        raise CheckFailure("zero_eigenvalue_counterexample should return (values, probs), two lists")
    values = [as_fraction(v, "each value") if not isinstance(v, float) else Fraction(v) for v in got[0]]
    probs = [as_fraction(p, "each probability") if not isinstance(p, float) else Fraction(p) for p in got[1]]
    if len(values) != len(probs) or not values:
        raise CheckFailure("values and probs should be non-empty lists of the same length")
    if any(p < 0 for p in probs) or sum(probs) != 1:
        raise CheckFailure("the probabilities must be non-negative and sum to exactly 1")
    mass: dict[Fraction, Fraction] = {}
    for v, p in zip(values, probs, strict=True):
        mass[v] = mass.get(v, Fraction(0)) + p
    if any(mass.get(-v, Fraction(0)) != p for v, p in mass.items()):
        raise CheckFailure("the law is not symmetric: p(x) must equal p(-x)")

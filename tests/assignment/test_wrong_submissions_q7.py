"""q7's wrong submissions each lose q7 points only; the reference gets them all.

Each notebook is the master with ONE q7 solution cell replaced. Mistakes the
hidden tests must catch: the (A + A.T) / 2 shortcut, a non-symmetric matrix,
the global random generator instead of ``generator``, fractions that ignore
``tol`` or count an eigenvalue at ``+-tol`` as beyond it, NaN fractions (NaN
compares False with everything), floats where a Fraction is asked for, counting only one eigenvalue,
and an asymmetric "counterexample".
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.model import Grade

from .corpus import MASTER, grade_notebook

pytestmark = pytest.mark.slow

MUTANTS = {
    "halved_sum": ("q7-sample-symmetric-matrices", "sample_symmetric_matrices", '''
def sample_symmetric_matrices(num, n, sample_entries, generator):
    A = sample_entries((num, n, n), generator)
    return (A + A.transpose(-1, -2)) / 2
'''),
    "global_rng": ("q7-sample-symmetric-matrices", "sample_symmetric_matrices", '''
def sample_symmetric_matrices(num, n, sample_entries, generator):
    rows, cols = torch.triu_indices(n, n)
    draws = sample_entries((num, rows.numel()), torch.Generator().manual_seed(int(torch.randint(0, 10**6, ()))))
    M = torch.zeros((num, n, n), dtype=draws.dtype)
    M[:, rows, cols] = draws
    M[:, cols, rows] = draws
    return M
'''),
    "ignores_tol": ("q7-eigenvalue-sign-fractions", "eigenvalue_sign_fractions", '''
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    lam = torch.linalg.eigvalsh(matrices.to(torch.float64))
    pos, neg = int((lam > 0).sum()), int((lam < 0).sum())
    total = lam.numel()
    return pos / total, neg / total, (total - pos - neg) / total
'''),
    "counts_tol_as_beyond_it": ("q7-eigenvalue-sign-fractions", "eigenvalue_sign_fractions", '''
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    lam = torch.linalg.eigvalsh(matrices.to(torch.float64))
    pos, neg = int((lam >= tol).sum()), int((lam <= -tol).sum())
    total = lam.numel()
    return pos / total, neg / total, (total - pos - neg) / total
'''),
    "nan_fractions": ("q7-eigenvalue-sign-fractions", "eigenvalue_sign_fractions", '''
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    return float("nan"), float("nan"), float("nan")
'''),
    "float_probabilities": ("q7-exact-sign-probabilities-2x2", "exact_sign_probabilities_2x2", '''
def exact_sign_probabilities_2x2(values, probs):
    counts = [0.0, 0.0, 0.0]
    for (a, pa), (b, pb), (c, pc) in itertools.product(list(zip(values, probs)), repeat=3):
        lam = torch.linalg.eigvalsh(torch.tensor([[float(a), float(b)], [float(b), float(c)]], dtype=torch.float64))
        for v in lam.tolist():
            k = 0 if v > 1e-12 else 1 if v < -1e-12 else 2
            counts[k] += float(pa) * float(pb) * float(pc) / 2
    return tuple(counts)
'''),
    "asymmetric_counterexample": ("q7-zero-eigenvalue-counterexample", "zero_eigenvalue_counterexample", '''
def zero_eigenvalue_counterexample():
    return [0, 1], [Fraction(1, 2), Fraction(1, 2)]
'''),
}


# Correct, in another style: entries drawn one at a time in column order (another
# stream from the same generator), loops, sympy Rationals instead of Fractions, a
# counterexample of many values.
ALTERNATIVE = {
    "q7-sample-symmetric-matrices": '''
def sample_symmetric_matrices(num, n, sample_entries, generator):
    M = torch.empty((num, n, n), dtype=torch.float64)
    for j in range(n):
        for i in range(j + 1):
            column = sample_entries((num,), generator)
            M[:, i, j] = column
            M[:, j, i] = column
    return M
''',
    "q7-eigenvalue-sign-fractions": '''
def eigenvalue_sign_fractions(matrices, tol=1e-9):
    counts = [0, 0, 0]
    for matrix in matrices:
        for lam in torch.linalg.eigvalsh(matrix.double()).tolist():
            counts[0 if lam > tol else 1 if lam < -tol else 2] += 1
    total = sum(counts)
    return tuple(c / total for c in counts)
''',
    "q7-exact-sign-probabilities-2x2": '''
import sympy

def exact_sign_probabilities_2x2(values, probs):
    out = [sympy.Integer(0)] * 3
    law = [(sympy.Rational(str(v)), sympy.Rational(str(p))) for v, p in zip(values, probs)]
    for (a, pa), (b, pb), (c, pc) in itertools.product(law, repeat=3):
        for lam in sympy.Matrix([[a, b], [b, c]]).eigenvals(multiple=True):
            out[0 if lam > 0 else 1 if lam < 0 else 2] += pa * pb * pc / 2
    return tuple(out)
''',
    # 2,001 values: a grader that enumerated the law's 2x2 matrices took hours here.
    "q7-zero-eigenvalue-counterexample": '''
def zero_eigenvalue_counterexample():
    import sympy
    return list(range(-1000, 1001)), [sympy.Rational(1, 2001)] * 2001
''',
}


def graded_with(path: Path, sources: dict[str, str]) -> Grade:
    """The master with some cells' sources replaced (by cell id), graded."""
    nb = nbformat.read(MASTER, as_version=4)
    for cell in nb.cells:
        if cell.get("id") in sources:
            cell.source = sources[cell["id"]]
    return grade_notebook(nb, path)


def q7_parts(result: Grade) -> dict[str, float]:
    (q7,) = [q for q in result.questions if q.id == "q7"]
    parts: dict[str, float] = {}
    for test in q7.tests:
        parts[test.part] = parts.get(test.part, 0.0) + test.max_points - test.points
    return parts


@pytest.fixture(scope="module")
def reference_grade(tmp_path_factory: pytest.TempPathFactory) -> Grade:
    return graded_with(tmp_path_factory.mktemp("ref") / "reference.ipynb", {})


def test_reference_gets_all_of_q7(reference_grade: Grade) -> None:
    (q7,) = [q for q in reference_grade.questions if q.id == "q7"]
    assert q7.score == q7.max_score == 20


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutant_loses_only_its_own_share(tmp_path: Path, reference_grade: Grade, mutant: str) -> None:
    cell_id, function, source = MUTANTS[mutant]
    result = graded_with(tmp_path / f"{mutant}.ipynb", {cell_id: source})
    lost = {part: points for part, points in q7_parts(result).items() if points > 1e-9}
    assert set(lost) == {function}, lost
    others = {q.id: q.score for q in result.questions if q.id != "q7"}
    assert others == {q.id: q.score for q in reference_grade.questions if q.id != "q7"}


def test_correct_alternative_gets_all_of_q7(tmp_path: Path) -> None:
    result = graded_with(tmp_path / "alternative.ipynb", ALTERNATIVE)
    (q7,) = [q for q in result.questions if q.id == "q7"]
    assert q7.score == q7.max_score, [(t.name, t.message) for t in q7.failed_tests][:5]

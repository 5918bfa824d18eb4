"""A class's worth of mixed ``optimization_intro`` submissions, built from the master notebook.

Each submission is the reference solution with at most one solution cell
replaced (found by cell id, as ``tests/assignment/test_wrong_submissions_q7.py``
does): about 60 % correct (some with a harmless scratch cell appended), about
35 % wrong in one function (a rotation of realistic single-function mistakes)
and about 5 % with one function that never returns, so that every call of it
runs into the call time limit. The mix is deterministic given the seed.
"""

from __future__ import annotations

import random
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "solutions" / "optimization_intro" / "solution.ipynb"

Kind = Literal["correct", "wrong", "timeout"]
KINDS: tuple[Kind, ...] = ("correct", "wrong", "timeout")


@dataclass(frozen=True)
class Variant:
    """One way of changing the master: replace the cell ``cell_id`` by ``source``, or append a cell."""

    name: str
    cell_id: str | None = None
    source: str = ""
    appended: str = ""


@dataclass(frozen=True)
class Submission:
    """One student's notebook in the corpus."""

    student: str
    kind: Kind
    variant: str
    path: Path


def _src(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


CORRECT = (
    Variant("reference"),
    Variant("reference"),
    Variant("scratch cell", appended=_src("""
        # trying things out
        print(f(torch.tensor([0.5, 1.0], dtype=torch.float64)), classify_critical_point(torch.eye(2)))
    """)),
)

WRONG = (
    Variant("f without the x factor", "q1-f", _src("""
        def f(x):
            return torch.cos(math.pi * x)
    """)),
    Variant("hessian in float32", "q3-hessian", _src("""
        def hessian(fn, x):
            return torch.autograd.functional.hessian(fn, x.detach().clone()).to(torch.float32)
    """)),
    Variant("local_minima stub left", "q2-local-minima", _src("""
        def local_minima(fn, lo, hi):
            raise NotImplementedError
    """)),
    Variant("gradient_descent one step short", "q5-gradient-descent", _src("""
        def gradient_descent(fn, x0, lr, num_steps):
            x = x0.detach().clone()
            rows = [x]
            for _ in range(num_steps - 1):
                xr = x.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(xr), xr)
                x = x - lr * grad
                rows.append(x)
            return torch.stack(rows)
    """)),
    Variant("q7 sampler on the global RNG", "q7-sample-symmetric-matrices", _src("""
        def sample_symmetric_matrices(num, n, sample_entries, generator):
            rows, cols = torch.triu_indices(n, n)
            seed = int(torch.randint(0, 10**6, ()))
            draws = sample_entries((num, rows.numel()), torch.Generator().manual_seed(seed))
            M = torch.zeros((num, n, n), dtype=draws.dtype)
            M[:, rows, cols] = draws
            M[:, cols, rows] = draws
            return M
    """)),
    Variant("classify ignores tol", "q4-classify", _src("""
        def classify_critical_point(H, tol=1e-6):
            lam = torch.linalg.eigvalsh(H)
            if (lam > 0).any() and (lam < 0).any():
                return 'saddle'
            if (lam > 0).all():
                return 'minimum'
            if (lam < 0).all():
                return 'maximum'
            return 'degenerate'
    """)),
    Variant("num_equivalent_minima forgets the signs", "q6-num-equivalent-minima", _src("""
        def num_equivalent_minima(d, sign_symmetry=False):
            return math.factorial(d)
    """)),
)

TIMEOUT = (
    Variant("classify loops forever", "q4-classify", _src("""
        def classify_critical_point(H, tol=1e-6):
            while True:
                pass
    """)),
    Variant("saddle_escape_steps never updates y", "q8-saddle-escape-steps", _src("""
        def saddle_escape_steps(eps, lr):
            x, y, steps = 1.0, float(eps), 0
            while abs(y) < 1:
                x = x - lr * 2 * x
                steps += 1
            return steps
    """)),
)

VARIANTS: dict[Kind, tuple[Variant, ...]] = {"correct": CORRECT, "wrong": WRONG, "timeout": TIMEOUT}


def kind_counts(n: int) -> dict[Kind, int]:
    """How many submissions of each kind among ``n``: 5 % time-outs (at least one), 35 % wrong, the rest correct."""
    timeout = min(n, -(-n * 5 // 100))
    wrong = min(n - timeout, (n * 35 + 50) // 100)
    return {"correct": n - wrong - timeout, "wrong": wrong, "timeout": timeout}


def mutated(master: nbformat.NotebookNode, variant: Variant) -> nbformat.NotebookNode:
    """A copy of ``master`` with the variant's cell replaced or its scratch cell appended."""
    nb: nbformat.NotebookNode = nbformat.from_dict(master)  # type: ignore[no-untyped-call]
    if variant.cell_id is not None:
        (cell,) = [c for c in nb.cells if c.get("id") == variant.cell_id]
        cell.source = variant.source
    if variant.appended:
        nb.cells.append(nbformat.v4.new_code_cell(variant.appended, id="scratch"))  # type: ignore[no-untyped-call]
    return nb


def build_corpus(folder: Path, n: int, seed: int) -> list[Submission]:
    """Write ``n`` notebooks ``student-000.ipynb``... into ``folder``; the kinds shuffled by ``seed``."""
    kinds: list[Kind] = [kind for kind, count in kind_counts(n).items() for _ in range(count)]
    random.Random(seed).shuffle(kinds)
    master = nbformat.read(MASTER, as_version=4)  # type: ignore[no-untyped-call]
    seen: Counter[Kind] = Counter()
    corpus = []
    for index, kind in enumerate(kinds):
        variants = VARIANTS[kind]
        variant = variants[seen[kind] % len(variants)]
        seen[kind] += 1
        path = folder / f"student-{index:03d}.ipynb"
        nbformat.write(mutated(master, variant), path)  # type: ignore[no-untyped-call]
        corpus.append(Submission(path.stem, kind, variant.name, path))
    return corpus


def stratified_sample(corpus: Sequence[Submission], k: int) -> list[Submission]:
    """``k`` submissions with the corpus's kind proportions (every kind present at least once if ``k`` allows)."""
    by_kind = {kind: [s for s in corpus if s.kind == kind] for kind in KINDS}
    present = [kind for kind in KINDS if by_kind[kind]]
    k = min(k, len(corpus))
    quota = {kind: min(len(by_kind[kind]), 1 if k >= len(present) else 0) for kind in present}
    while sum(quota.values()) < k:
        # Largest shortfall against the proportional share gets the next slot.
        kind = max((kind for kind in present if quota[kind] < len(by_kind[kind])),
                   key=lambda kind: k * len(by_kind[kind]) / len(corpus) - quota[kind])
        quota[kind] += 1
    chosen = {s.student for kind in present for s in by_kind[kind][:quota[kind]]}
    return [s for s in corpus if s.student in chosen]

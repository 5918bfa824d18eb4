"""A class's worth of mixed ``optimization_intro`` submissions, built from the master notebook.

Each submission is the reference solution with at most one function's solution
cell replaced: about 60 % correct (some with a harmless scratch cell appended),
about 35 % wrong in one function (a rotation of the mutants of
``tests/assignment/test_wrong_submissions*.py``, each proven to lose points)
and about 5 % with one function that never returns, so that every call of it
runs into the call time limit. The mix is deterministic given the seed.
"""

from __future__ import annotations

import random
import sys
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.assignment.test_wrong_submissions import mutant_sources, with_sources  # noqa: E402
from tests.assignment.test_wrong_submissions_q6_q8 import MUTANTS as Q6_Q8_MUTANTS  # noqa: E402

MASTER = REPO / "solutions" / "optimization_intro" / "solution.ipynb"

Kind = Literal["correct", "wrong", "timeout"]
KINDS: tuple[Kind, ...] = ("correct", "wrong", "timeout")


@dataclass(frozen=True)
class Variant:
    """One way of changing the master: solution cells replaced (function -> source), a cell appended."""

    name: str
    sources: Mapping[str, str] = field(default_factory=dict)
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

# Single-function mistakes that the wrong-submission tests prove lose points in their own part only.
WRONG = (
    *(Variant(name, mutant_sources((name,))) for name in (
        "f_pi_as_3.14", "hessian_in_float64", "local_minima_includes_the_ends", "descent_without_row_0",
        "classify_ignores_tol")),
    *(Variant(name, dict([Q6_Q8_MUTANTS[name]])) for name in (
        "num_minima_forgets_the_signs", "noise_from_the_global_rng")),
)

TIMEOUT = (
    Variant("classify loops forever", {"classify_critical_point": _src("""
        def classify_critical_point(H, tol=1e-6):
            while True:
                pass
    """)}),
    Variant("saddle_escape_steps never updates y", {"saddle_escape_steps": _src("""
        def saddle_escape_steps(eps, lr):
            x, y, steps = 1.0, float(eps), 0
            while abs(y) < 1:
                x = x - lr * 2 * x
                steps += 1
            return steps
    """)}),
)

VARIANTS: dict[Kind, tuple[Variant, ...]] = {"correct": CORRECT, "wrong": WRONG, "timeout": TIMEOUT}


def kind_counts(n: int) -> dict[Kind, int]:
    """How many submissions of each kind among ``n``: 5 % time-outs (at least one), 35 % wrong, the rest correct."""
    timeout = min(n, -(-n * 5 // 100))
    wrong = min(n - timeout, (n * 35 + 50) // 100)
    return {"correct": n - wrong - timeout, "wrong": wrong, "timeout": timeout}


def mutated(master: nbformat.NotebookNode, variant: Variant) -> nbformat.NotebookNode:
    """A copy of ``master`` with the variant's solution cells replaced and its scratch cell appended."""
    nb = with_sources(master, dict(variant.sources))
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

"""Why q7's counterexample test computes nothing: every valid symmetric discrete law is a counterexample.

The hidden test ``test_counterexample`` accepts any symmetric discrete law
without computing ``P(lam > 0)``, on the argument in its docstring: the
matrix ``[[v, v], [v, v]]`` is singular, so ``P(lam = 0) >= sum p_v**3 / 2
> 0`` and symmetry leaves ``P(lam > 0) = (1 - P(lam = 0)) / 2 < 1/2``. Here
the hidden tests' own sympy enumeration checks that claim on random
symmetric laws, so the argument cannot silently be wrong.
"""

from __future__ import annotations

import importlib.util
import random
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest

HIDDEN_Q7 = Path(__file__).resolve().parents[2] / "solutions" / "optimization_intro" / "hidden_tests" / "test_q7.py"


@pytest.fixture(scope="module")
def hidden_q7() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hidden_q7_for_the_claim", HIDDEN_Q7)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_symmetric_law(rng: random.Random) -> tuple[list[Fraction], list[Fraction]]:
    """Values +-v (and maybe 0) with p(v) = p(-v), masses summing to 1."""
    magnitudes = rng.sample([Fraction(n, d) for n in range(1, 6) for d in (1, 2, 3)], rng.randint(1, 2))
    weights = [rng.randint(1, 5) for _ in magnitudes]
    zero = rng.randint(0, 3)
    total = 2 * sum(weights) + zero
    values = [s * m for m in magnitudes for s in (1, -1)] + ([Fraction(0)] if zero else [])
    probs = [Fraction(w, total) for w in weights for _ in (1, -1)] + ([Fraction(zero, total)] if zero else [])
    return values, probs


@pytest.mark.parametrize("seed", range(12))
def test_every_symmetric_law_is_a_counterexample(hidden_q7: ModuleType, seed: int) -> None:
    values, probs = random_symmetric_law(random.Random(seed))
    assert sum(probs) == 1
    positive, negative, zero = hidden_q7.sympy_sign_probabilities(values, probs)
    assert positive == negative
    assert zero >= sum(p**3 for p in probs) / 2 > 0
    assert positive < Fraction(1, 2)

"""q6's claim, checked with sympy: a tanh MLP has (at least) 2**d * d! equivalent parameterizations.

For symbolic weights (every entry of ``W1``, ``b1``, ``w2`` and ``b2`` its
own symbol, so nothing holds by numerical accident) and symbolic inputs,
d = 2 and 3:

- relabelling the hidden units (new unit ``i`` is old unit ``perm[i]``: the
  ``W1`` row, the ``b1`` and ``w2`` entries) leaves the output unchanged,
  for every permutation;
- flipping the sign of one unit (its ``W1`` row, ``b1`` and ``w2`` entries)
  leaves it unchanged too, because tanh is odd; not so for the sigmoid;
- the ``2**d * d!`` combinations give pairwise different parameters with the
  same output: the count ``num_equivalent_minima`` returns.

Then the master's reference, on numeric parameters: ``permute_hidden`` is
exactly the relabelling used above, ``equivalent_parameterizations`` lists
the relabellings, ``mlp_forward`` is the symbolic network, and the counts
agree. Those tests skip until the reference cells are in the master.
"""

from __future__ import annotations

import itertools
import math
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import nbformat
import pytest
import sympy
import torch

from grader.reference import load_reference

REPO = Path(__file__).resolve().parents[2]
MASTER = REPO / "solutions" / "optimization_intro" / "solution.ipynb"

# Parameters as nested lists (of sympy symbols or of floats): W1 is d rows of n.
Params = dict[str, Any]


def symbolic_network(d: int, n: int) -> tuple[Params, list[sympy.Symbol]]:
    """Symbolic parameters of a d-unit, n-input network, and the input symbols."""
    params = {
        "W1": [[sympy.Symbol(f"W1_{i}{j}") for j in range(n)] for i in range(d)],
        "b1": [sympy.Symbol(f"b1_{i}") for i in range(d)],
        "w2": [sympy.Symbol(f"w2_{i}") for i in range(d)],
        "b2": sympy.Symbol("b2"),
    }
    return params, [sympy.Symbol(f"x_{j}") for j in range(n)]


def output(params: Params, xs: Sequence[sympy.Expr],
           activation: Callable[[sympy.Expr], sympy.Expr] = sympy.tanh) -> sympy.Expr:
    """``w2 . activation(W1 x + b1) + b2``."""
    hidden = [activation(sum((w * x for w, x in zip(row, xs, strict=True)), sympy.Integer(0)) + b)
              for row, b in zip(params["W1"], params["b1"], strict=True)]
    return sum((w * h for w, h in zip(params["w2"], hidden, strict=True)), sympy.Integer(0)) + params["b2"]


def relabel(params: Params, perm: Sequence[int]) -> Params:
    """The re-indexing of the contract: new unit i is old unit perm[i]."""
    return {"W1": [list(params["W1"][p]) for p in perm], "b1": [params["b1"][p] for p in perm],
            "w2": [params["w2"][p] for p in perm], "b2": params["b2"]}


def flip(params: Params, signs: Sequence[int]) -> Params:
    """Unit i multiplied by signs[i] (+1 or -1): its W1 row, b1 and w2 entries."""
    return {"W1": [[s * w for w in row] for s, row in zip(signs, params["W1"], strict=True)],
            "b1": [s * b for s, b in zip(signs, params["b1"], strict=True)],
            "w2": [s * w for s, w in zip(signs, params["w2"], strict=True)], "b2": params["b2"]}


def frozen(params: Params) -> tuple[Any, ...]:
    return (tuple(map(tuple, params["W1"])), tuple(params["b1"]), tuple(params["w2"]), params["b2"])


def sigmoid(z: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-z))


def same(a: sympy.Expr, b: sympy.Expr) -> bool:
    """a == b as functions: equal after expansion (tanh(-z) is -tanh(z) in sympy), else by simplify."""
    return bool(sympy.expand(a - b) == 0 or sympy.simplify(a - b) == 0)


# ---------------------------------------------------------------------- the claim, symbolically


@pytest.mark.parametrize(("d", "n"), [(2, 2), (3, 2), (3, 3)])
def test_every_permutation_keeps_the_output(d: int, n: int) -> None:
    params, xs = symbolic_network(d, n)
    base = output(params, xs)
    for perm in itertools.permutations(range(d)):
        assert same(output(relabel(params, perm), xs), base), perm


@pytest.mark.parametrize(("d", "n"), [(2, 2), (3, 2)])
def test_flipping_one_unit_keeps_the_output_of_tanh(d: int, n: int) -> None:
    params, xs = symbolic_network(d, n)
    base = output(params, xs)
    for unit in range(d):
        signs = [-1 if i == unit else 1 for i in range(d)]
        assert same(output(flip(params, signs), xs), base), unit


def test_flipping_a_unit_changes_a_sigmoid_network() -> None:
    """The sign symmetry needs an odd activation: sigmoid(-z) = 1 - sigmoid(z)."""
    params, xs = symbolic_network(2, 2)
    base = output(params, xs, sigmoid)
    assert same(output(relabel(params, [1, 0]), xs, sigmoid), base)
    assert not same(output(flip(params, [-1, 1]), xs, sigmoid), base)


@pytest.mark.parametrize(("d", "n"), [(2, 2), (3, 2)])
def test_signs_and_permutations_give_2_to_the_d_times_d_factorial_parameterizations(d: int, n: int) -> None:
    params, xs = symbolic_network(d, n)
    base = output(params, xs)
    variants = [relabel(flip(params, signs), perm)
                for signs in itertools.product([1, -1], repeat=d) for perm in itertools.permutations(range(d))]
    assert len({frozen(v) for v in variants}) == 2**d * math.factorial(d)
    for v in variants:
        assert same(output(v, xs), base)


# ---------------------------------------------------------------------- the master's reference


@pytest.fixture(scope="module")
def reference() -> types.SimpleNamespace:
    """The master's reference solution; skips while its q6 cells are placeholders."""
    nb = nbformat.read(MASTER, as_version=4)  # type: ignore[no-untyped-call]
    cell = next((c for c in nb.cells if c.get("id") == "q6-mlp-forward"), None)
    if cell is None or "solution" not in cell.metadata.get("tags", []):
        pytest.skip(f"the q6 reference is not in {MASTER.name} yet (cell q6-mlp-forward is not tagged 'solution')")
    return load_reference(MASTER)


def numeric_network(d: int, n: int, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"W1": torch.randn(d, n, generator=gen, dtype=torch.float64),
            "b1": torch.randn(d, generator=gen, dtype=torch.float64),
            "w2": torch.randn(d, generator=gen, dtype=torch.float64),
            "b2": torch.randn((), generator=gen, dtype=torch.float64)}


def as_lists(params: dict[str, torch.Tensor]) -> Params:
    return {k: v.tolist() for k, v in params.items()}


def as_tensors(params: Params) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}


PERMS = [(d, perm) for d in (1, 2, 3, 4) for perm in itertools.permutations(range(d))] + [
    (5, (3, 0, 4, 1, 2)), (6, (5, 3, 0, 1, 2, 4))]


@pytest.mark.parametrize(("d", "perm"), PERMS, ids=[f"d{d}-{''.join(map(str, p))}" for d, p in PERMS])
def test_reference_permute_hidden_is_the_relabelling(reference: types.SimpleNamespace, d: int,
                                                     perm: tuple[int, ...]) -> None:
    params = numeric_network(d, 3, seed=10 * d)
    before = {k: v.clone() for k, v in params.items()}
    got = reference.permute_hidden(params, list(perm))
    want = as_tensors(relabel(as_lists(params), perm))
    assert set(got) == set(want)
    for k in want:
        assert got[k].dtype == torch.float64 and torch.equal(got[k], want[k]), k
    for k in params:  # the input is left alone, and shares no memory with the result
        assert torch.equal(params[k], before[k]) and got[k].data_ptr() != params[k].data_ptr(), k


@pytest.mark.parametrize("d", [2, 3])
def test_reference_mlp_forward_is_the_symbolic_network(reference: types.SimpleNamespace, d: int) -> None:
    params = numeric_network(d, 2, seed=d)
    X = torch.tensor([[0.5, -1.0], [2.0, 0.25], [0.0, 0.0]], dtype=torch.float64)
    sym, xs = symbolic_network(d, 2)
    expr = output(sym, xs)
    values = dict(zip(itertools.chain(*sym["W1"], sym["b1"], sym["w2"], [sym["b2"]]),
                      itertools.chain(*params["W1"].tolist(), params["b1"].tolist(), params["w2"].tolist(),
                                      [float(params["b2"])]), strict=True))
    want = [float(expr.subs(values).subs(dict(zip(xs, row, strict=True))).evalf(30)) for row in X.tolist()]
    got = reference.mlp_forward(params, X)
    assert got.shape == (3,) and torch.allclose(got, torch.tensor(want, dtype=torch.float64), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_reference_parameterizations_are_the_relabellings(reference: types.SimpleNamespace, d: int) -> None:
    params = numeric_network(d, 2, seed=100 + d)
    family = reference.equivalent_parameterizations(params)
    got = [frozen(as_lists(p)) for p in family]
    want = {frozen(relabel(as_lists(params), perm)) for perm in itertools.permutations(range(d))}
    assert len(got) == len(set(got)) == math.factorial(d) == reference.num_equivalent_minima(d)
    assert set(got) == want and got[0] == frozen(as_lists(params))


@pytest.mark.parametrize("d", [2, 3])
def test_reference_count_with_signs_is_the_symbolic_count(reference: types.SimpleNamespace, d: int) -> None:
    params, _ = symbolic_network(d, 2)
    variants = {frozen(relabel(flip(params, signs), perm))
                for signs in itertools.product([1, -1], repeat=d) for perm in itertools.permutations(range(d))}
    got = reference.num_equivalent_minima(d, sign_symmetry=True)
    assert type(got) is int and got == len(variants)

"""The grading of optimization_intro q6 and q8 is honest: right answers score, wrong ones do not.

Submissions are built from the master notebook in the repository, its
reference cells replaced by cell id: the reference itself, the student stub
(``grader.authoring.student_notebook``), mutants (one realistic wrong
implementation of one function) and correct alternatives written in another
style. Each is graded in-process with the public and hidden tests. A mutant
must lose points in its own function's part, keep every other part of its
question, and leave every other question where the reference has it; the
reference and the alternatives must get full marks on q6 and q8.

The q6 and q8 reference cells are self-contained (none calls another student
function), so a mutant's effect stays in its own part. Grading one notebook
costs a worker start and the whole suite (a few seconds), so each mutant
notebook carries one q6 mutant and one q8 mutant. The module skips while the
master's q6/q8 cells are still placeholders.
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from grader.authoring import student_notebook
from grader.model import Grade

from .corpus import (
    MASTER,
    assert_lost_only_own_part,
    failures,
    grade_notebook,
    part_scores,
    question_scores,
    src,
)

pytestmark = pytest.mark.slow

GRADED = ("q6", "q8")
CELLS = {  # function -> the master's cell that defines it
    "mlp_forward": "q6-mlp-forward",
    "permute_hidden": "q6-permute-hidden",
    "equivalent_parameterizations": "q6-equivalent-parameterizations",
    "num_equivalent_minima": "q6-num-equivalent-minima",
    "saddle_escape_steps": "q8-saddle-escape-steps",
    "perturbed_gradient_descent": "q8-perturbed-gradient-descent",
}
PARTS = {function: cell.split("-")[0] for function, cell in CELLS.items()}  # function -> question



# ---------------------------------------------------------------------- mutants: (function, source)

MUTANTS: dict[str, tuple[str, str]] = {
    # q6
    "mlp_forward_with_sigmoid": ("mlp_forward", src("""
        def mlp_forward(params, X):
            return torch.sigmoid(X @ params['W1'].T + params['b1']) @ params['w2'] + params['b2']
    """)),
    "mlp_forward_without_b2": ("mlp_forward", src("""
        def mlp_forward(params, X):
            return torch.tanh(X @ params['W1'].T + params['b1']) @ params['w2']
    """)),
    "permute_moves_W1_and_b1_but_not_w2": ("permute_hidden", src("""
        def permute_hidden(params, perm):
            return {'W1': params['W1'][perm], 'b1': params['b1'][perm], 'w2': params['w2'].clone(),
                    'b2': params['b2'].clone()}
    """)),
    # The inverse permutation (new unit perm[i] = old unit i) is a bijection of
    # the same set of re-indexings, so equivalent_parameterizations-style set
    # checks and the "same outputs" check cannot see it: only the exact
    # re-indexing check (with perms that are not involutions) and the
    # composition law permute(permute(p, a), b) == permute(p, a[b]) can.
    "permute_with_the_inverse": ("permute_hidden", src("""
        def permute_hidden(params, perm):
            inverse = torch.argsort(torch.as_tensor(perm))
            return {'W1': params['W1'][inverse], 'b1': params['b1'][inverse], 'w2': params['w2'][inverse],
                    'b2': params['b2'].clone()}
    """)),
    "equivalent_without_deduplication": ("equivalent_parameterizations", src("""
        def equivalent_parameterizations(params):
            d = params['W1'].shape[0]
            out = []
            for perm in itertools.permutations(range(d)):
                p = list(perm)
                out.append({'W1': params['W1'][p], 'b1': params['b1'][p], 'w2': params['w2'][p],
                            'b2': params['b2'].clone()})
            return out
    """)),
    "equivalent_misses_the_original": ("equivalent_parameterizations", src("""
        def equivalent_parameterizations(params):
            d = params['W1'].shape[0]
            out, seen = [], set()
            for perm in itertools.permutations(range(d)):
                p = list(perm)
                new = {'W1': params['W1'][p], 'b1': params['b1'][p], 'w2': params['w2'][p],
                       'b2': params['b2'].clone()}
                key = tuple(tuple(v.reshape(-1).tolist()) for v in new.values())
                if key not in seen:
                    seen.add(key)
                    out.append(new)
            return out[1:]          # "the other solutions": drops the original
    """)),
    "num_minima_as_a_float": ("num_equivalent_minima", src("""
        def num_equivalent_minima(d, sign_symmetry=False):
            count = float(math.factorial(d))
            return 2.0**d * count if sign_symmetry else count
    """)),
    "num_minima_forgets_the_signs": ("num_equivalent_minima", src("""
        def num_equivalent_minima(d, sign_symmetry=False):
            return math.factorial(d)
    """)),
    "equivalent_rounds_before_comparing": ("equivalent_parameterizations", src("""
        def equivalent_parameterizations(params):
            out, seen = [], set()
            for perm in itertools.permutations(range(params['W1'].shape[0])):
                new = permute_hidden(params, list(perm))
                # units equal to 4 decimals taken for identical ones
                key = tuple(round(v, 4) for k in ('W1', 'b1', 'w2') for v in new[k].reshape(-1).tolist())
                if key not in seen:
                    seen.add(key)
                    out.append(new)
            return out
    """)),
    # q8
    "escape_with_floor": ("saddle_escape_steps", src("""
        def saddle_escape_steps(eps, lr):
            if abs(eps) >= 1:
                return 0
            return math.floor(math.log(1 / abs(eps)) / math.log(1 + 2 * lr))   # one step short
    """)),
    "escape_ignores_the_sign_of_eps": ("saddle_escape_steps", src("""
        def saddle_escape_steps(eps, lr):
            if eps >= 1:
                return 0
            return math.ceil(math.log(1 / eps) / math.log1p(2 * lr))
    """)),
    "escape_always_takes_a_step": ("saddle_escape_steps", src("""
        def saddle_escape_steps(eps, lr):
            y, t = eps, 0
            while True:                  # checks |y| only after a step
                y = y + 2 * lr * y
                t += 1
                if abs(y) >= 1:
                    return t
    """)),
    "noise_from_the_global_rng": ("perturbed_gradient_descent", src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            rows = [x0.detach().clone()]
            for _ in range(num_steps):
                x = rows[-1].clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(x), x)
                rows.append((rows[-1] - lr * grad + noise_std * torch.randn(x0.shape, dtype=x0.dtype)).detach())
            return torch.stack(rows)
    """)),
    "noise_with_std_squared": ("perturbed_gradient_descent", src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            rows = [x0.detach().clone()]
            for _ in range(num_steps):
                x = rows[-1].clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(x), x)
                noise = noise_std**2 * torch.randn(x0.shape, generator=generator, dtype=x0.dtype)  # a variance
                rows.append((rows[-1] - lr * grad + noise).detach())
            return torch.stack(rows)
    """)),
    "noise_only_once": ("perturbed_gradient_descent", src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            x = x0.detach().clone() + noise_std * torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
            rows = [x0.detach().clone()]
            for _ in range(num_steps):
                xr = x.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(xr), xr)
                x = (x - lr * grad).detach()
                rows.append(x)
            return torch.stack(rows)
    """)),
    "noise_on_the_gradient": ("perturbed_gradient_descent", src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            rows = [x0.detach().clone()]
            for _ in range(num_steps):
                x = rows[-1].clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(x), x)
                grad = grad + noise_std * torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
                rows.append((rows[-1] - lr * grad).detach())           # the noise scaled by lr
            return torch.stack(rows)
    """)),
    "escape_not_implemented": ("saddle_escape_steps", src("""
        def saddle_escape_steps(eps, lr):
            raise NotImplementedError
    """)),
    "perturbed_modifies_x0": ("perturbed_gradient_descent", src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            x = x0.detach()              # shares x0's memory: the in-place steps below change the caller's x0
            rows = [x.clone()]
            for _ in range(num_steps):
                xr = x.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(xr), xr)
                x -= lr * grad
                x += noise_std * torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
                rows.append(x.clone())
            return torch.stack(rows)
    """)),
    "noise_drawn_once_reused": ("perturbed_gradient_descent", src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            noise = noise_std * torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
            rows = [x0.detach().clone()]
            for _ in range(num_steps):
                x = rows[-1].clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(x), x)
                rows.append((rows[-1] - lr * grad + noise).detach())
            return torch.stack(rows)
    """)),
}

# Mutant notebooks: at most one q6 mutant and one q8 mutant each.
MUTANT_NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "mutants_1": ("mlp_forward_with_sigmoid", "escape_with_floor"),
    "mutants_2": ("mlp_forward_without_b2", "escape_ignores_the_sign_of_eps"),
    "mutants_3": ("permute_moves_W1_and_b1_but_not_w2", "escape_always_takes_a_step"),
    "mutants_4": ("permute_with_the_inverse", "noise_from_the_global_rng"),
    "mutants_5": ("equivalent_without_deduplication", "noise_with_std_squared"),
    "mutants_6": ("equivalent_misses_the_original", "noise_only_once"),
    "mutants_7": ("num_minima_as_a_float", "noise_on_the_gradient"),
    "mutants_8": ("num_minima_forgets_the_signs", "noise_drawn_once_reused"),
    "mutants_9": ("equivalent_rounds_before_comparing", "perturbed_modifies_x0"),
    # A stub saddle_escape_steps costs that part only (a perturbed_gradient_descent test once called it).
    "mutants_10": ("escape_not_implemented",),
}

# ---------------------------------------------------------------------- a correct alternative

# Another style throughout: einsum, loops, a set of byte keys, a product, a
# float simulation, all the noise drawn at once up front and torch.func.grad.
ALTERNATIVE: dict[str, str] = {
    "mlp_forward": src("""
        def mlp_forward(params, X):
            pre = torch.einsum('mn,dn->md', X, params['W1']) + params['b1']
            return torch.einsum('md,d->m', torch.tanh(pre), params['w2']) + params['b2']
    """),
    "permute_hidden": src("""
        def permute_hidden(params, perm):
            order = [int(i) for i in perm]
            return {
                'W1': torch.stack([params['W1'][i].clone() for i in order]),
                'b1': torch.stack([params['b1'][i].clone() for i in order]),
                'w2': torch.stack([params['w2'][i].clone() for i in order]),
                'b2': params['b2'].clone(),
            }
    """),
    "equivalent_parameterizations": src("""
        def equivalent_parameterizations(params):
            d = params['W1'].shape[0]
            found, seen = [], set()
            for perm in itertools.permutations(range(d)):     # the identity comes first
                order = list(perm)
                new = {'W1': params['W1'][order], 'b1': params['b1'][order], 'w2': params['w2'][order],
                       'b2': params['b2'].clone()}
                key = b''.join(new[k].numpy().tobytes() for k in ('W1', 'b1', 'w2'))
                if key not in seen:
                    seen.add(key)
                    found.append(new)
            return found
    """),
    "num_equivalent_minima": src("""
        def num_equivalent_minima(d, sign_symmetry=False):
            count = 1
            for k in range(2, d + 1):
                count *= k
            if sign_symmetry:
                count <<= d
            return count
    """),
    "saddle_escape_steps": src("""
        def saddle_escape_steps(eps, lr):
            y, t = float(eps), 0
            while abs(y) < 1:
                y = y - lr * (-2 * y)
                t += 1
            return t
    """),
    "perturbed_gradient_descent": src("""
        def perturbed_gradient_descent(fn, x0, lr, noise_std, num_steps, generator):
            noise = torch.randn((num_steps, *x0.shape), generator=generator, dtype=x0.dtype)
            step = torch.func.grad(fn)
            out = torch.empty((num_steps + 1, *x0.shape), dtype=x0.dtype)
            out[0] = x0
            for t in range(num_steps):
                out[t + 1] = out[t] - lr * step(out[t]) + noise_std * noise[t]
            return out
    """),
}


# ---------------------------------------------------------------------- building and grading


def with_sources(master: nbformat.NotebookNode, sources: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the master with the cells of these functions replaced (found by cell id)."""
    nb = copy.deepcopy(master)
    by_id = {cell.get("id"): cell for cell in nb.cells}
    for function, source in sources.items():
        by_id[CELLS[function]].source = source
    return nb


@pytest.fixture(scope="module")
def master() -> nbformat.NotebookNode:
    """The repository's master; skips while its q6/q8 cells are placeholders."""
    nb = nbformat.read(MASTER, as_version=4)  # type: ignore[no-untyped-call]
    by_id = {cell.get("id"): cell for cell in nb.cells}
    pending = [cell for cell in CELLS.values()
               if "solution" not in by_id.get(cell, {}).get("metadata", {}).get("tags", [])]
    if pending:
        pytest.skip(f"the q6/q8 reference is not in {MASTER.name} yet "
                    f"(cells not tagged 'solution': {', '.join(pending)})")
    return nb  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def grades(master: nbformat.NotebookNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    """Every notebook of this module, graded once."""
    folder = tmp_path_factory.mktemp("submissions")
    notebooks = {
        "reference": master,
        "stub": student_notebook(master),
        "alternative": with_sources(master, ALTERNATIVE),
        **{name: with_sources(master, dict(MUTANTS[m] for m in names)) for name, names in MUTANT_NOTEBOOKS.items()},
    }
    return {name: grade_notebook(nb, folder / f"{name}.ipynb") for name, nb in notebooks.items()}


# ---------------------------------------------------------------------- the assertions


def test_reference_gets_full_marks(grades: dict[str, Grade]) -> None:
    g = grades["reference"]
    scores = question_scores(g)
    assert all(scores[q][0] == scores[q][1] > 0 for q in GRADED), {p: failures(g, p)[:3] for p in PARTS}
    assert set(part_scores(g, PARTS)) == set(PARTS)


def test_stub_gets_nothing(grades: dict[str, Grade]) -> None:
    scores = question_scores(grades["stub"])
    assert all(scores[q][0] == 0 and scores[q][1] > 0 for q in GRADED), scores


def test_correct_alternative_gets_full_marks(grades: dict[str, Grade]) -> None:
    g = grades["alternative"]
    assert not g.cell_errors, g.cell_errors
    wrong = {p: failures(g, p)[:3] for p in PARTS if failures(g, p)}
    assert not wrong, wrong


MUTANT_CASES = [(notebook, mutant) for notebook, names in MUTANT_NOTEBOOKS.items() for mutant in names]


def test_every_function_has_a_mutant() -> None:
    assert {MUTANTS[m][0] for _, m in MUTANT_CASES} == set(PARTS)
    assert sorted(m for _, m in MUTANT_CASES) == sorted(MUTANTS)
    for names in MUTANT_NOTEBOOKS.values():
        questions = [PARTS[MUTANTS[m][0]] for m in names]
        assert len(questions) == len(set(questions)), names


@pytest.mark.parametrize(("notebook", "mutant"), MUTANT_CASES, ids=[m for _, m in MUTANT_CASES])
def test_mutant_loses_points_only_in_its_own_part(grades: dict[str, Grade], notebook: str, mutant: str) -> None:
    mutated = {PARTS[MUTANTS[m][0]] for m in MUTANT_NOTEBOOKS[notebook]}
    assert_lost_only_own_part(grades[notebook], grades["reference"], MUTANTS[mutant][0], PARTS, mutated)

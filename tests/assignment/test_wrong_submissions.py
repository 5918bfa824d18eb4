"""The grading of optimization_intro q1-q5 is honest: right answers score, wrong ones do not.

Submissions are built from the master notebook: the reference itself, the
student stub (``grader.authoring.student_notebook``), mutants (one solution
cell replaced by a realistic wrong implementation of that one function) and
correct alternatives written in another style. Each is graded in-process
with the public and hidden tests. A mutant must lose points in its own
question, only in its own function's part, and keep full marks everywhere
else; a correct alternative must get full marks.

Grading one notebook costs a worker start (about 3 s), so each mutant
notebook carries one mutant per question (q1 to q5 are independent), and a
notebook whose mutant breaks a function that the master reuses (``g`` calls
``f``, ``global_minimum`` calls ``local_minima``) gets a self-contained
correct version of the other function, so that the effect stays in one part.
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

GRADED = ("q1", "q2", "q3", "q4", "q5")
PARTS = {
    "f": "q1", "g": "q1", "local_minima": "q2", "global_minimum": "q2", "hessian": "q3",
    "classify_critical_point": "q4", "derivative": "q5", "gradient_descent": "q5",
}



# ---------------------------------------------------------------------- mutants: (function, source)

# Two local_minima mutants share a correct core: the slope's sign changes on a grid, refined by bisection;
# it returns the grid's slopes and the refined minimisers.
BISECTED_MINIMA = src("""
    def _slope(fn, x):
        x = x.detach().clone().requires_grad_(True)
        (d,) = torch.autograd.grad(fn(x).sum(), x)
        return d

    def _bisected_minima(fn, lo, hi):
        xs = torch.linspace(lo, hi, 30001, dtype=torch.float64)
        d = _slope(fn, xs)
        idx = torch.nonzero((d[:-1] < 0) & (d[1:] >= 0)).flatten()
        a, b = xs[idx], xs[idx + 1]
        for _ in range(80):
            m = (a + b) / 2
            neg = _slope(fn, m) < 0
            a, b = torch.where(neg, m, a), torch.where(neg, b, m)
        return d, (a + b) / 2
""") + "\n"

MUTANTS: dict[str, tuple[str, str]] = {
    # q1
    "f_pi_as_3.14": ("f", src("""
        def f(x):
            return x * torch.cos(3.14 * x)
    """)),
    "f_float64_pi_tensor": ("f", src("""
        PI = torch.tensor(np.pi, dtype=torch.float64)   # leaks float64 into a 0-d float32 input

        def f(x):
            return x * torch.cos(PI * x)
    """)),
    "f_through_numpy": ("f", src("""
        def f(x):
            a = x.detach().numpy()
            return torch.tensor(a * np.cos(np.pi * a), dtype=x.dtype)
    """)),
    "g_forgets_pi": ("g", src("""
        def g(x):
            return f(x) + 0.2 * torch.cos(5 * x)
    """)),
    # q2
    "local_minima_keeps_only_the_lowest": ("local_minima", src("""
        def local_minima(fn, lo, hi):
            xs = torch.linspace(float(lo), float(hi), 20001, dtype=torch.float64)
            with torch.no_grad():
                ys = fn(xs)
            inner = (ys[1:-1] < ys[:-2]) & (ys[1:-1] < ys[2:])
            idx = torch.nonzero(inner).flatten() + 1
            if idx.numel() == 0:
                return torch.empty(0, dtype=torch.float64)
            best = idx[torch.argmin(ys[idx])]
            a, b = float(xs[best - 1]), float(xs[best + 1])
            for _ in range(100):
                m = (a + b) / 2
                t = torch.tensor(m, dtype=torch.float64, requires_grad=True)
                (d,) = torch.autograd.grad(fn(t), t)
                a, b = (m, b) if d < 0 else (a, m)
            return torch.tensor([(a + b) / 2], dtype=torch.float64)
    """)),
    "local_minima_includes_the_ends": ("local_minima", BISECTED_MINIMA + src("""
        def local_minima(fn, lo, hi):
            lo, hi = float(lo), float(hi)
            d, roots = _bisected_minima(fn, lo, hi)
            found = [float(v) for v in roots]
            if d[0] > 0:
                found.insert(0, lo)      # "the function goes up from lo, so lo is a minimum"
            if d[-1] < 0:
                found.append(hi)
            return torch.tensor(found, dtype=torch.float64)
    """)),
    "global_minimum_ignores_the_ends": ("global_minimum", src("""
        def global_minimum(fn, lo, hi):
            mins = local_minima(fn, lo, hi)
            if mins.numel() == 0:
                mins = torch.tensor([float(lo), float(hi)], dtype=torch.float64)
            with torch.no_grad():
                values = fn(mins)
            i = int(torch.argmin(values))
            return float(mins[i]), float(values[i])
    """)),
    "local_minima_skips_a_margin_at_the_ends": ("local_minima", BISECTED_MINIMA + src("""
        def local_minima(fn, lo, hi):
            _, roots = _bisected_minima(fn, float(lo) + 0.1, float(hi) - 0.1)      # "keep away from the ends"
            return roots.to(torch.float64)
    """)),
    # q3
    "hessian_is_the_gradient_outer_product": ("hessian", src("""
        def hessian(fn, x):
            xr = x.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(fn(xr), xr)
            return torch.outer(grad, grad)
    """)),
    "hessian_in_float64": ("hessian", src("""
        def hessian(fn, x):
            return torch.autograd.functional.hessian(fn, x.detach().double())
    """)),
    "hessian_raises_on_a_constant_gradient": ("hessian", src("""
        def hessian(fn, x):
            xr = x.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(fn(xr), xr, create_graph=True)
            # grad[i] of an affine fn does not require grad: autograd.grad raises on it
            rows = [torch.autograd.grad(grad[i], xr, retain_graph=True)[0] for i in range(xr.numel())]
            return torch.stack(rows).detach()
    """)),
    "hessian_sets_requires_grad_on_x": ("hessian", src("""
        def hessian(fn, x):
            x.requires_grad_(True)      # the caller's x: changed in place
            return torch.autograd.functional.hessian(fn, x).to(x.dtype)
    """)),
    # q4
    "classify_ignores_tol": ("classify_critical_point", src("""
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
    "classify_zero_before_saddle": ("classify_critical_point", src("""
        def classify_critical_point(H, tol=1e-6):
            lam = torch.linalg.eigvalsh(H)
            if (lam.abs() <= tol).any():
                return 'degenerate'
            if (lam > tol).all():
                return 'minimum'
            if (lam < -tol).all():
                return 'maximum'
            return 'saddle'
    """)),
    "classify_counts_tol_as_beyond_it": ("classify_critical_point", src("""
        def classify_critical_point(H, tol=1e-6):
            lam = torch.linalg.eigvalsh(H.detach())
            pos, neg = bool((lam >= tol).any()), bool((lam <= -tol).any())
            if pos and neg:
                return 'saddle'
            if bool((lam >= tol).all()):
                return 'minimum'
            if bool((lam <= -tol).all()):
                return 'maximum'
            return 'degenerate'
    """)),
    # q5
    "derivative_backward_on_the_input": ("derivative", src("""
        def derivative(fn, x):
            x.requires_grad_(True)      # the caller's x: changed in place, and its .grad filled
            fn(x).sum().backward()
            return x.grad
    """)),
    "derivative_by_finite_differences": ("derivative", src("""
        def derivative(fn, x):
            h = 1e-3
            with torch.no_grad():
                return (fn(x + h) - fn(x - h)) / (2 * h)
    """)),
    "derivative_in_float64": ("derivative", src("""
        def derivative(fn, x):
            xr = x.detach().double().requires_grad_(True)
            (d,) = torch.autograd.grad(fn(xr).sum(), xr)
            return d
    """)),
    "descent_without_row_0": ("gradient_descent", src("""
        def gradient_descent(fn, x0, lr, num_steps):
            x = x0.detach().clone()
            rows = []
            for _ in range(num_steps):
                xr = x.clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(xr), xr)
                x = x - lr * grad
                rows.append(x)
            return torch.stack(rows) if rows else torch.empty((0, *x0.shape), dtype=x0.dtype)
    """)),
    "descent_modifies_x0": ("gradient_descent", src("""
        def gradient_descent(fn, x0, lr, num_steps):
            x = x0                       # not a copy: the updates below change the caller's tensor
            rows = [x.detach().clone()]
            for _ in range(num_steps):
                x.requires_grad_(True)
                fn(x).backward()
                with torch.no_grad():
                    x -= lr * x.grad
                x.grad = None
                rows.append(x.detach().clone())
            x.requires_grad_(False)
            return torch.stack(rows)
    """)),
}

# Correct, self-contained versions of the functions the master reuses, so
# that a mutant of f (or local_minima) does not also break g (or global_minimum).
STANDALONE = {
    "g": src("""
        def g(x):
            return x * torch.cos(math.pi * x) + 0.2 * torch.cos(5 * math.pi * x)
    """),
    "global_minimum": src("""
        def global_minimum(fn, lo, hi):
            lo, hi = float(lo), float(hi)
            xs = torch.linspace(lo, hi, 40001, dtype=torch.float64)
            def slope(x):
                x = x.detach().clone().requires_grad_(True)
                (d,) = torch.autograd.grad(fn(x).sum(), x)
                return d
            d = slope(xs)
            idx = torch.nonzero((d[:-1] < 0) & (d[1:] >= 0)).flatten()
            a, b = xs[idx], xs[idx + 1]
            for _ in range(80):
                m = (a + b) / 2
                neg = slope(m) < 0
                a, b = torch.where(neg, m, a), torch.where(neg, b, m)
            cand = torch.cat([torch.tensor([lo], dtype=torch.float64), (a + b) / 2,
                              torch.tensor([hi], dtype=torch.float64)])
            with torch.no_grad():
                values = fn(cand)
            i = int(torch.argmin(values))
            return float(cand[i]), float(values[i])
    """),
}
NEEDS_STANDALONE = {"f": "g", "local_minima": "global_minimum"}

# Mutant notebooks: at most one mutant per question.
MUTANT_NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "mutants_1": ("f_pi_as_3.14", "local_minima_keeps_only_the_lowest", "hessian_is_the_gradient_outer_product",
                  "classify_ignores_tol", "derivative_by_finite_differences"),
    "mutants_2": ("f_float64_pi_tensor", "local_minima_includes_the_ends", "hessian_in_float64",
                  "classify_zero_before_saddle", "descent_without_row_0"),
    "mutants_3": ("f_through_numpy", "global_minimum_ignores_the_ends", "hessian_raises_on_a_constant_gradient",
                  "classify_counts_tol_as_beyond_it", "derivative_in_float64"),
    "mutants_4": ("g_forgets_pi", "local_minima_skips_a_margin_at_the_ends", "descent_modifies_x0"),
    "mutants_5": ("hessian_sets_requires_grad_on_x", "derivative_backward_on_the_input"),
}

# ---------------------------------------------------------------------- correct alternatives

ALTERNATIVES: dict[str, dict[str, str]] = {
    # torch.func throughout; Newton's method for the minima; torch.pi.
    "functional": {
        "f": src("""
            def f(x):
                return torch.cos(torch.pi * x) * x
        """),
        "g": src("""
            def g(x):
                return x * torch.cos(x * torch.pi) + torch.cos(5 * torch.pi * x) / 5
        """),
        "local_minima": src("""
            def local_minima(fn, lo, hi):
                lo, hi = float(lo), float(hi)
                d1 = torch.func.vmap(torch.func.grad(fn))
                d2 = torch.func.vmap(torch.func.grad(torch.func.grad(fn)))
                xs = torch.linspace(lo, hi, max(10001, int((hi - lo) / 5e-4) + 1), dtype=torch.float64)
                d = d1(xs)
                idx = torch.nonzero((d[:-1] < 0) & (d[1:] >= 0)).flatten()
                if idx.numel() == 0:                      # vmap cannot map over nothing
                    return torch.empty(0, dtype=torch.float64)
                a, b = xs[idx], xs[idx + 1]
                x = (a + b) / 2
                for _ in range(50):                       # Newton, kept inside the bracket
                    new = torch.clamp(x - d1(x) / d2(x), a, b)
                    done = bool(((new - x).abs() <= 1e-15 * (1 + x.abs())).all())
                    x = new
                    if done:
                        break
                x = x[(x > lo) & (x < hi)]
                return torch.unique(x).to(torch.float64)
        """),
        "global_minimum": src("""
            def global_minimum(fn, lo, hi):
                cand = [float(lo)] + local_minima(fn, lo, hi).tolist() + [float(hi)]
                values = [float(fn(torch.tensor(c, dtype=torch.float64))) for c in cand]
                best = min(range(len(cand)), key=values.__getitem__)
                return cand[best], values[best]
        """),
        "hessian": src("""
            def hessian(fn, x):
                return torch.func.jacfwd(torch.func.jacrev(fn))(x.detach().clone())
        """),
        "classify_critical_point": src("""
            def classify_critical_point(H, tol=1e-6):
                lam = torch.linalg.eigvals(H.to(torch.float64)).real
                pos, neg = bool((lam > tol).any()), bool((lam < -tol).any())
                if pos and neg:
                    return 'saddle'
                if bool((lam > tol).all()):
                    return 'minimum'
                if bool((lam < -tol).all()):
                    return 'maximum'
                return 'degenerate'
        """),
        "derivative": src("""
            def derivative(fn, x):
                flat = x.detach().reshape(-1)
                return torch.func.vmap(torch.func.grad(fn))(flat).reshape(x.shape)
        """),
        "gradient_descent": src("""
            def gradient_descent(fn, x0, lr, num_steps):
                step = torch.func.grad(fn)
                out = torch.empty((num_steps + 1, *x0.shape), dtype=x0.dtype)
                out[0] = x0
                for t in range(num_steps):
                    out[t + 1] = out[t] - lr * step(out[t])
                return out
        """),
    },
    # Plain loops and .backward(); bisection on the slope, one bracket at a time.
    "loops": {
        "f": src("""
            def f(x):
                return x * torch.cos(x * math.pi)
        """),
        "g": src("""
            def g(x):
                return f(x) + 0.2 * torch.cos(x * (5 * math.pi))
        """),
        "local_minima": src("""
            def _slope(fn, x):
                x = x.detach().clone().requires_grad_(True)
                fn(x).sum().backward()
                return x.grad

            def local_minima(fn, lo, hi):
                lo, hi = float(lo), float(hi)
                n = 30001
                xs = torch.linspace(lo, hi, n, dtype=torch.float64)
                d = _slope(fn, xs).tolist()
                found = []
                for i in range(n - 1):
                    if d[i] < 0 <= d[i + 1]:
                        a, b = float(xs[i]), float(xs[i + 1])
                        while b - a > 1e-13:
                            m = (a + b) / 2
                            if float(_slope(fn, torch.tensor(m, dtype=torch.float64))) < 0:
                                a = m
                            else:
                                b = m
                        r = (a + b) / 2
                        if lo < r < hi and (not found or r - found[-1] > 1e-9):
                            found.append(r)
                return torch.tensor(found, dtype=torch.float64)
        """),
        "global_minimum": src("""
            def global_minimum(fn, lo, hi):
                best = None
                for c in [float(lo), *local_minima(fn, lo, hi).tolist(), float(hi)]:
                    with torch.no_grad():
                        v = float(fn(torch.tensor([c], dtype=torch.float64))[0])
                    if best is None or v < best[1]:
                        best = (c, v)
                return best
        """),
        "hessian": src("""
            def hessian(fn, x):
                xr = x.detach().clone().requires_grad_(True)
                (grad,) = torch.autograd.grad(fn(xr), xr, create_graph=True)
                k = x.numel()
                H = torch.zeros(k, k, dtype=x.dtype)
                for i in range(k):
                    if grad[i].requires_grad:
                        (row,) = torch.autograd.grad(grad[i], xr, retain_graph=True, allow_unused=True)
                        if row is not None:
                            H[i] = row.detach()
                return H
        """),
        "classify_critical_point": src("""
            def classify_critical_point(H, tol=1e-6):
                lam = torch.linalg.eigvalsh(H.detach().clone()).tolist()
                pos = sum(1 for v in lam if v > tol)
                neg = sum(1 for v in lam if v < -tol)
                if pos and neg:
                    return 'saddle'
                if pos == len(lam):
                    return 'minimum'
                if neg == len(lam):
                    return 'maximum'
                return 'degenerate'
        """),
        "derivative": src("""
            def derivative(fn, x):
                xr = x.detach().clone().requires_grad_(True)
                fn(xr).backward(torch.ones_like(xr))
                return xr.grad
        """),
        "gradient_descent": src("""
            def gradient_descent(fn, x0, lr, num_steps):
                rows = [x0.detach().clone()]
                for _ in range(num_steps):
                    x = rows[-1].clone().requires_grad_(True)
                    fn(x).backward()
                    rows.append((rows[-1] - lr * x.grad).detach())
                return torch.stack(rows)
        """),
    },
}


# ---------------------------------------------------------------------- building and grading


def solution_cell(nb: nbformat.NotebookNode, function: str) -> nbformat.NotebookNode:
    """The master's solution cell that defines ``function``."""
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and "solution" in tags and f"def {function}(" in cell.source:
            return cell  # type: ignore[no-any-return]
    raise LookupError(f"no solution cell defines {function}")


def with_sources(master: nbformat.NotebookNode, sources: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the master with the solution cells of these functions replaced."""
    nb = copy.deepcopy(master)
    for function, source in sources.items():
        solution_cell(nb, function).source = source
    return nb


def mutant_sources(names: tuple[str, ...]) -> dict[str, str]:
    sources: dict[str, str] = {}
    for name in names:
        function, source = MUTANTS[name]
        sources[function] = source
        if function in NEEDS_STANDALONE:
            other = NEEDS_STANDALONE[function]
            sources.setdefault(other, STANDALONE[other])
    return sources


@pytest.fixture(scope="module")
def master() -> nbformat.NotebookNode:
    return nbformat.read(MASTER, as_version=4)  # type: ignore[no-any-return, no-untyped-call]


@pytest.fixture(scope="module")
def grades(master: nbformat.NotebookNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    """Every notebook of this module, graded once."""
    folder = tmp_path_factory.mktemp("submissions")
    notebooks = {
        "reference": master,
        "stub": student_notebook(master),
        **{name: with_sources(master, mutant_sources(names)) for name, names in MUTANT_NOTEBOOKS.items()},
        **{name: with_sources(master, sources) for name, sources in ALTERNATIVES.items()},
    }
    return {name: grade_notebook(nb, folder / f"{name}.ipynb") for name, nb in notebooks.items()}


# ---------------------------------------------------------------------- the assertions


def test_reference_gets_full_marks(grades: dict[str, Grade]) -> None:
    scores = question_scores(grades["reference"])
    assert all(scores[q][0] == scores[q][1] > 0 for q in GRADED), scores
    assert set(part_scores(grades["reference"], PARTS)) == set(PARTS)


def test_stub_gets_nothing(grades: dict[str, Grade]) -> None:
    scores = question_scores(grades["stub"])
    assert all(scores[q][0] == 0 and scores[q][1] > 0 for q in GRADED), scores


@pytest.mark.parametrize("alternative", list(ALTERNATIVES))
def test_correct_alternative_gets_full_marks(grades: dict[str, Grade], alternative: str) -> None:
    g = grades[alternative]
    assert not g.cell_errors, g.cell_errors
    wrong = {p: failures(g, p)[:3] for p in PARTS if failures(g, p)}
    assert not wrong, wrong


MUTANT_CASES = [(notebook, mutant) for notebook, names in MUTANT_NOTEBOOKS.items() for mutant in names]


def test_every_function_has_a_mutant() -> None:
    assert {MUTANTS[m][0] for _, m in MUTANT_CASES} == set(PARTS)
    for names in MUTANT_NOTEBOOKS.values():
        questions = [PARTS[MUTANTS[m][0]] for m in names]
        assert len(questions) == len(set(questions)), names


@pytest.mark.parametrize(("notebook", "mutant"), MUTANT_CASES, ids=[m for _, m in MUTANT_CASES])
def test_mutant_loses_points_only_in_its_own_part(grades: dict[str, Grade], notebook: str, mutant: str) -> None:
    mutated = {PARTS[MUTANTS[m][0]] for m in MUTANT_NOTEBOOKS[notebook]}
    assert_lost_only_own_part(grades[notebook], grades["reference"], MUTANTS[mutant][0], PARTS, mutated)


def test_hidden_failures_never_say_how_far_the_answer_is(grades: dict[str, Grade]) -> None:
    """A red team read "off by 0.901", guessed 0.901, read "off by 0.0004" and passed the hidden test the third time."""
    failed = [t for g in grades.values() for q in g.questions for t in q.tests if t.outcome != "passed"]
    hidden = [t.message for t in failed if t.visibility == "hidden"]
    assert [m for m in hidden if "is wrong at" in m or "is not within" in m], "no hidden value check failed"
    assert not [m for m in hidden if "largest error" in m or "off by" in m]

"""The Monte-Carlo audit in small, and the markers it relies on.

``benchmarks/mc_audit.py`` runs every ``montecarlo``-marked hidden test under
many seeds against the reference and the mutants the test names; here with
20 seeds (the full 1000-seed run is the script's job). The other tests keep
the audit complete: every hidden test of q7 and q8 whose verdict depends on
the random seed carries the marker (found from the source, so that a new
Monte-Carlo test cannot skip the audit), and every mutant a marker names
exists, in that test's own part.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.plugin import ITEM_KEY

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "mc_audit.py"
HIDDEN_TESTS = REPO / "solutions" / "optimization_intro" / "hidden_tests"
# The questions whose random tests must be audited. (q6's tests draw their inputs from `generator` too, but
# judge them exactly or within tolerances, not by a Monte-Carlo check.)
AUDITED = ("test_q7.py", "test_q8.py")
MONTECARLO_MODULE = "grader.checks.montecarlo"
RANDOM_FIXTURES = frozenset({"seed", "generator"})


@contextlib.contextmanager
def imported(path: Path, name: str) -> Iterator[types.ModuleType]:
    """A Python file outside the package as a module, in sys.modules meanwhile (its dataclasses need that)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture(scope="module")
def mc_audit() -> Iterator[types.ModuleType]:
    with imported(SCRIPT, "mc_audit") as module:
        yield module


@pytest.fixture(scope="module")
def items(mc_audit: types.ModuleType) -> list[pytest.Function]:
    return mc_audit.collect_items()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- the audit, 20 seeds


def test_twenty_seeds_no_false_failure_and_every_mutant_caught(mc_audit: types.ModuleType) -> None:
    audit = mc_audit.run_audit(seeds=20, jobs=1)
    report = mc_audit.format_report(audit)
    assert audit.reference_failures == 0, report
    assert not [row for row in audit.rows if row.misses() or row.crashes], report
    assert all(row.reference.runs == row.case.seeds == 20 for row in audit.rows), report
    assert audit.ok


# ---------------------------------------------------------------------- every random test is marked


def random_tests(source: str) -> set[str]:
    """The test functions whose verdict depends on the random seed.

    They take the ``seed`` or ``generator`` fixture (not a parameter of that
    name), or use a helper of :mod:`grader.checks.montecarlo`, directly or
    through the module's own functions.
    """
    tree = ast.parse(source)
    package, _, leaf = MONTECARLO_MODULE.rpartition(".")
    modules: set[str] = set()  # the local names of the montecarlo module
    helpers: set[str] = set()  # and of functions imported from it
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == MONTECARLO_MODULE:
            helpers |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == package:
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == leaf}
        elif isinstance(node, ast.Import):
            modules |= {alias.asname for alias in node.names if alias.name == MONTECARLO_MODULE and alias.asname}
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}

    def direct(function: ast.FunctionDef) -> bool:
        return any((isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules)
                   or (isinstance(n, ast.Name) and n.id in helpers) for n in ast.walk(function))

    def called(function: ast.FunctionDef) -> set[str]:
        return {n.func.id for n in ast.walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}

    uses = {name for name, function in functions.items() if direct(function)}
    while grown := {name for name, f in functions.items() if name not in uses and called(f) & uses}:
        uses |= grown
    return {name for name, function in functions.items() if name.startswith("test_")
            and (name in uses or RANDOM_FIXTURES & ({a.arg for a in function.args.args} - parametrized(function)))}


def parametrized(function: ast.FunctionDef) -> set[str]:
    """The argument names the function's ``parametrize`` decorators supply."""
    names: set[str] = set()
    for decorator in function.decorator_list:
        if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr == "parametrize" and decorator.args):
            spec = ast.literal_eval(decorator.args[0])
            names |= {n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec)}
    return names


def test_the_audit_decodes_a_reply_as_the_session_does(mc_audit: types.ModuleType) -> None:
    """A test's ``with_args`` gets the generator it passed back; the audit's reply path refused it."""
    import torch

    def draw(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.randn(2, generator=generator)

    value, (_, generator), _ = mc_audit.InProcess({"draw": draw}).call(
        "draw", (torch.zeros(2), torch.Generator().manual_seed(1)), None, "args")
    assert isinstance(generator, torch.Generator)
    assert torch.equal(value, torch.randn(2, generator=torch.Generator().manual_seed(1)))


def test_random_tests_are_found() -> None:
    """The detector itself: fixtures, helpers through module functions, and parameters named like fixtures."""
    source = '''
from grader.checks import montecarlo
from grader.checks.montecarlo import mean_test as check_mean
def check(x):
    montecarlo.one_sample_test(x, None)
def test_fixture(submission, seed): pass
def test_generator(generator): pass
def test_helper(submission): check(1)
def test_imported_helper(submission): check_mean(1)
@pytest.mark.parametrize("seed", [1, 2])
def test_seed_parameter(submission, seed): pass
def test_plain(submission): pass
'''
    assert random_tests(source) == {"test_fixture", "test_generator", "test_helper", "test_imported_helper"}


def test_every_random_hidden_test_is_marked(mc_audit: types.ModuleType, items: list[pytest.Function]) -> None:
    wanted = {(file, name) for file in AUDITED for name in random_tests((HIDDEN_TESTS / file).read_text())}
    assert {"test_entries_follow_the_law", "test_noise_scale_on_a_flat_function"} <= {name for _, name in wanted}
    unmarked = [item.nodeid for item in items
                if (item.path.name, item.originalname) in wanted and mc_audit.montecarlo_mark(item) is None]
    assert not unmarked, f"Monte-Carlo tests without @pytest.mark.montecarlo(alpha=..., catches=...): {unmarked}"


# ---------------------------------------------------------------------- the named mutants


def test_every_named_mutant_exists_in_the_tests_own_part(mc_audit: types.ModuleType,
                                                         items: list[pytest.Function]) -> None:
    mutants = mc_audit.load_mutants()
    named = 0
    for item in items:
        mark = mc_audit.montecarlo_mark(item)
        for name in mark.catches if mark else ():
            named += 1
            assert name in mutants, f"{item.nodeid}: no mutant {name!r} in {[p.name for p in mc_audit.CATALOGUES]}"
            part = item.stash[ITEM_KEY].mark.part
            assert mutants[name].function == part, f"{item.nodeid} ({part}) names {name}, a mutant of another part"
    assert named > 0


def test_every_catalogued_mutant_is_read_whole(mc_audit: types.ModuleType) -> None:
    """The audit reads the catalogues from their source: each mutant must define its function over the reference."""
    mutants = mc_audit.load_mutants()
    reference = mc_audit.load_reference(mc_audit.MASTER)
    assert len(mutants) >= 10
    for mutant in mutants.values():
        namespace = mc_audit.variant_namespace(reference, mutant)
        assert namespace[mutant.function] is not getattr(reference, mutant.function), mutant.name

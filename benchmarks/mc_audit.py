"""The Monte-Carlo audit: every ``montecarlo``-marked hidden test under many seeds, on the reference and its mutants.

A hidden test marked ``@pytest.mark.montecarlo(alpha=..., catches=(...))``
declares that a correct submission fails it with probability at most
``alpha`` and that it fails each named wrong solution (from the mutant
catalogues in ``tests/assignment``) under every seed. This script checks both
claims empirically: it runs each marked test under ``--seeds`` seeds against
the reference solution and, under the same seeds, against each mutant the
test names, then prints one table per test file::

    python benchmarks/mc_audit.py [--seeds 1000] [--tests REGEX] [--jobs N]

Exit code 0 when no run of the reference failed and every named mutant was
caught under every seed, 1 otherwise, 2 when the tests or catalogues cannot
be read.

How a run works: the test function is called directly, as pytest would call
it, with ``seed = derive_seed(seed_for(name), k)`` for the ``k``-th seed
(``name`` as the grader shows it), ``generator`` seeded with it, and the
item's parameters. ``submission`` is the real proxy
(:class:`grader.proxy.Submission`) over :class:`InProcess`, which runs the
reference's functions (or a copy of them with one function replaced by a
mutant's source) in this process but sends arguments and results through the
wire codec, as the worker does: generators arrive as copies, specifications
are rebuilt, results are plain data and an exception in the function is a
:class:`~grader.errors.StudentException` (a failure, as in grading). A test
"fails" when it raises AssertionError; any other exception is a crash,
counted as a failure on the reference and never as a catch. The global
random generators are seeded from the same seed before each run.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import inspect
import io
import math
import multiprocessing
import os
import random
import re
import struct
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import torch

from grader import codec, samplers, torchexpr
from grader.assignment import load_assignment
from grader.checks.montecarlo import derive_seed
from grader.errors import MissingFunction, StudentException
from grader.limits import Limits
from grader.plugin import ITEM_KEY, GradingPlugin, seed_for
from grader.proxy import Submission
from grader.reference import load_reference
from grader.sandbox.session import REPLY_EXTENSIONS, Mode

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = REPO / "assignments" / "optimization_intro"
MASTER = REPO / "solutions" / "optimization_intro" / "solution.ipynb"
HIDDEN_TESTS = REPO / "solutions" / "optimization_intro" / "hidden_tests"
CATALOGUES = (REPO / "tests" / "assignment" / "test_wrong_submissions_q7.py",
              REPO / "tests" / "assignment" / "test_wrong_submissions_q6_q8.py")
REFERENCE = "reference"
_WORKER_EXTENSIONS = {"fn": torchexpr.from_node, "dist": samplers.from_node, "generator": codec.decode_generator}


_Seed = TypeVar("_Seed", int, tuple[int, str])  # a seed index, or with what happened under it


class AuditError(Exception):
    """The tests or the mutant catalogues cannot be audited as they are."""


# ---------------------------------------------------------------------- what is audited


@dataclass(frozen=True)
class MonteCarloMark:
    """The ``montecarlo`` marker of a test, checked."""

    alpha: float
    catches: tuple[str, ...]


def montecarlo_mark(item: pytest.Item) -> MonteCarloMark | None:
    """The item's ``montecarlo`` marker, or None; AuditError if it is malformed."""
    marker = item.get_closest_marker("montecarlo")
    if marker is None:
        return None
    alpha, catches = marker.kwargs.get("alpha"), marker.kwargs.get("catches", ())
    if marker.args or set(marker.kwargs) - {"alpha", "catches"}:
        raise AuditError(f"{item.nodeid}: use @pytest.mark.montecarlo(alpha=..., catches=(...))")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha < 1:
        raise AuditError(f"{item.nodeid}: montecarlo alpha must be a probability in [0, 1), got {alpha!r}")
    if not (isinstance(catches, (tuple, list)) and all(isinstance(c, str) for c in catches)):
        raise AuditError(f"{item.nodeid}: montecarlo catches must be a tuple of mutant names")
    return MonteCarloMark(float(alpha), tuple(catches))


@dataclass(frozen=True)
class Mutant:
    """A wrong solution: the source of one function that replaces the reference's."""

    name: str
    function: str
    source: str


def load_mutants(paths: Iterable[Path] = CATALOGUES) -> dict[str, Mutant]:
    """The mutants of the catalogues, read from their ``MUTANTS`` dicts without importing the test modules.

    Values are ``(..., function, source)`` tuples of literals, the source
    possibly written ``src(\"\"\"...\"\"\")`` (dedented and stripped, as there).
    """
    mutants: dict[str, Mutant] = {}
    for path in paths:
        table = next((node.value for node in ast.parse(path.read_text()).body
                      if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict)
                      and any(isinstance(t, ast.Name) and t.id == "MUTANTS" for t in _targets(node))), None)
        if table is None:
            raise AuditError(f"{path}: no MUTANTS dict")
        for key, value in zip(table.keys, table.values, strict=True):
            try:
                name, *fields = [_literal(node) for node in (key, *getattr(value, "elts", ()))] if key else [None]
            except (ValueError, TypeError, SyntaxError):
                name, fields = None, []
            function, source = fields[-2:] if len(fields) >= 2 else (None, None)
            if not (isinstance(name, str) and isinstance(function, str) and isinstance(source, str)):
                raise AuditError(f"{path}:{value.lineno}: a mutant must be NAME: (..., FUNCTION, SOURCE) literals")
            if name in mutants:
                raise AuditError(f"{path}: mutant {name!r} is defined twice")
            mutants[name] = Mutant(name, function, source)
    return mutants


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def _literal(node: ast.expr) -> Any:
    """A literal, or ``src(literal)`` as the catalogues define ``src``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "src" and len(node.args) == 1:
        return textwrap.dedent(ast.literal_eval(node.args[0])).strip() + "\n"
    return ast.literal_eval(node)


@dataclass(frozen=True)
class Case:
    """One marked test item: what to call and what it claims."""

    name: str  # as the grader shows it (and seeds it): hidden_tests/test_q7.py::test_x[param]
    part: str
    mark: MonteCarloMark
    function: Callable[..., Any]
    params: Mapping[str, Any]
    seeds: int

    def seed(self, k: int) -> int:
        """The test's ``k``-th seed."""
        return derive_seed(seed_for(self.name), k)

    @property
    def file(self) -> str:
        return self.name.split("::")[0].rsplit("/", 1)[-1]

    @property
    def short(self) -> str:
        return self.name.split("::", 1)[-1]


class _Collector:
    def __init__(self) -> None:
        self.items: list[pytest.Function] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = [item for item in session.items if isinstance(item, pytest.Function)]


def collect_items(folder: Path = HIDDEN_TESTS) -> list[pytest.Function]:
    """Every test item of a hidden-tests folder, collected by pytest with the grading plugin's markers and names."""
    plugin = GradingPlugin(load_assignment(ASSIGNMENT).questions, _no_submission, None, [folder], [folder],
                           tests_cpu_time=Limits().tests_cpu_time)  # as grading has (collection only: unused)
    collector = _Collector()
    args = [str(folder), "--collect-only", "-q", "-c", os.devnull, "--rootdir", str(folder),
            "--import-mode=importlib", "--disable-plugin-autoload", "-p", "no:cacheprovider", "-p", "no:warnings"]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = pytest.main(args, plugins=[plugin, collector])
    if code != pytest.ExitCode.OK or plugin.collection_errors:
        errors = "; ".join(plugin.collection_errors[:3]) or out.getvalue().strip()[-500:]
        raise AuditError(f"the tests in {folder} could not be collected (exit code {int(code)}): {errors}")
    return collector.items


def _no_submission() -> Submission:
    raise AuditError("collection only: no submission")


def collect_cases(seeds: int, pattern: str | None = None, folder: Path = HIDDEN_TESTS,
                  mutants: Mapping[str, Mutant] | None = None) -> list[Case]:
    """The marked items (whose name matches ``pattern``), each with the seed count; checks the ``catches``."""
    mutants = load_mutants() if mutants is None else mutants
    cases = []
    for item in collect_items(folder):
        mark, graded = montecarlo_mark(item), item.stash.get(ITEM_KEY, None)
        name, part = (graded.name, graded.mark.part) if graded else (item.nodeid, item.originalname)
        if mark is None or (pattern and not re.search(pattern, name)):
            continue
        unknown = [m for m in mark.catches if m not in mutants]
        if unknown:
            raise AuditError(f"{name}: unknown mutant(s) {', '.join(unknown)} in catches")
        callspec = getattr(item, "callspec", None)
        cases.append(Case(name, part, mark, item.function, dict(callspec.params) if callspec else {},
                          seeds))
    if not cases:
        raise AuditError(f"no montecarlo-marked test in {folder}" + (f" matches {pattern!r}" if pattern else ""))
    return cases


# ---------------------------------------------------------------------- running a test


class InProcess:
    """A :class:`grader.proxy.CallTarget` that runs a namespace's functions here, through the wire codec."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.namespace = namespace

    def call(self, name: str, args: Any = (), kwargs: Any = None, mode: Mode = "value") -> Any:
        fn = self.namespace.get(name)
        if not callable(fn):
            raise MissingFunction(f"the notebook does not define a function `{name}`")
        sent = _through_wire({"args": list(args), "kwargs": dict(kwargs or {})}, _WORKER_EXTENSIONS)
        try:
            value = _call(fn, mode, sent["args"], sent["kwargs"])
        except Exception as error:  # the worker turns any exception into a reply, the proxy into this
            raise StudentException(f"`{name}` raised {type(error).__name__}: {error}") from error
        return _through_wire(value, REPLY_EXTENSIONS)  # as the session decodes replies


def _call(fn: Callable[..., Any], mode: Mode, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """The worker's call modes (``grader.worker.serve``): the value, with the arguments after, or with a gradient."""
    if mode == "value":
        return fn(*args, **kwargs)
    if mode == "args":
        return fn(*args, **kwargs), tuple(args), kwargs
    x = args[0].detach().clone().requires_grad_(True)
    y = fn(x, *args[1:], **kwargs)
    (grad,) = torch.autograd.grad(y.sum(), x, allow_unused=True)
    if grad is None:
        raise TypeError("the result does not depend on the input through autograd")
    return y.detach(), grad


def _through_wire(value: Any, extensions: Mapping[str, codec.Extension] | None = None) -> Any:
    """``value`` encoded as one frame and decoded again, as it would cross to or from the worker."""
    frame = codec.pack(value)
    (size,) = struct.unpack_from(">I", frame)
    return codec.unpack(codec.parse_header(frame[4 : 4 + size]), frame[4 + size :], extensions)


def variant_namespace(reference: types.SimpleNamespace, mutant: Mutant | None) -> dict[str, Any]:
    """The reference's namespace, or a copy with the mutant's source run in it (replacing one function)."""
    namespace = dict(vars(reference))
    if mutant is not None:
        exec(compile(mutant.source, f"<mutant {mutant.name}>", "exec"), namespace)
        if namespace.get(mutant.function) is getattr(reference, mutant.function, None):
            raise AuditError(f"mutant {mutant.name} does not define {mutant.function}")
    return namespace


@dataclass
class Tally:
    """The outcomes of one test on one variant over a range of seeds."""

    runs: int = 0
    failed: int = 0  # AssertionError: a failure on the reference, a catch on a mutant
    crashed: int = 0  # any other exception
    first_pass: int | None = None  # the seed index
    first_failure: tuple[int, str] | None = None  # the seed index and the message
    first_crash: tuple[int, str] | None = None
    cpu_seconds: float = 0.0

    def add(self, k: int, outcome: str, message: str) -> None:
        """Count the outcome of the ``k``-th seed."""
        self.runs += 1
        if outcome == "passed":
            self.first_pass = _first(self.first_pass, k)
        elif outcome == "failed":
            self.failed += 1
            self.first_failure = _first(self.first_failure, (k, message))
        else:
            self.crashed += 1
            self.first_crash = _first(self.first_crash, (k, message))

    def merge(self, other: Tally) -> None:
        """Add the counts of another range of seeds."""
        self.runs += other.runs
        self.failed += other.failed
        self.crashed += other.crashed
        self.cpu_seconds += other.cpu_seconds
        self.first_pass = _first(self.first_pass, other.first_pass)
        self.first_failure = _first(self.first_failure, other.first_failure)
        self.first_crash = _first(self.first_crash, other.first_crash)


def _first(a: _Seed | None, b: _Seed | None) -> _Seed | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class _Runner:
    """What a process needs to run tasks: the cases and the submission of each variant."""

    cases: Sequence[Case]
    submissions: Mapping[str, Submission]
    reference: types.SimpleNamespace

    def run(self, case_index: int, variant: str, seeds: range) -> Tally:
        case, tally = self.cases[case_index], Tally()
        start = time.process_time()  # CPU time: what the seed counts are planned with, whatever else runs
        for k in seeds:
            tally.add(k, *self.run_once(case, self.submissions[variant], k))
        tally.cpu_seconds = time.process_time() - start
        return tally

    def run_once(self, case: Case, submission: Submission, k: int) -> tuple[str, str]:
        """Call the test with the ``k``-th seed: ("passed" | "failed" | "crashed", message)."""
        seed = case.seed(k)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        kwargs = self.arguments(case, submission, seed)
        try:
            case.function(**kwargs)
        except (AssertionError, pytest.fail.Exception) as error:
            return "failed", _first_line(error)
        except (Exception, pytest.skip.Exception) as error:  # noqa: BLE001 - a crash is reported, not raised
            return "crashed", f"{type(error).__name__}: {_first_line(error)}"
        return "passed", ""

    def arguments(self, case: Case, submission: Submission, seed: int) -> dict[str, Any]:
        """The test function's arguments: its parameters, then the grading fixtures it asks for."""
        fixtures: dict[str, Callable[[], Any]] = {
            "submission": lambda: submission,
            "seed": lambda: seed,
            "generator": lambda: torch.Generator().manual_seed(seed),
            "reference": lambda: self.reference,
        }
        kwargs = {}
        for name in inspect.signature(case.function).parameters:
            if name in case.params:
                kwargs[name] = case.params[name]
            elif name in fixtures:
                kwargs[name] = fixtures[name]()
            else:
                raise AuditError(f"{case.name}: the audit has no fixture {name!r}")
        return kwargs


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


_RUNNER: _Runner | None = None  # the runner of a pool process (set by its initializer)


def _adopt(runner: _Runner) -> None:
    global _RUNNER
    torch.set_num_threads(1)
    _RUNNER = runner


def _run_task(task: tuple[int, str, int, int]) -> tuple[int, str, Tally]:
    case_index, variant, start, stop = task
    assert _RUNNER is not None
    return case_index, variant, _RUNNER.run(case_index, variant, range(start, stop))


# ---------------------------------------------------------------------- the audit


@dataclass
class Row:
    """One test's line of the table."""

    case: Case
    reference: Tally = field(default_factory=Tally)
    mutants: dict[str, Tally] = field(default_factory=dict)

    @property
    def reference_failures(self) -> int:
        return self.reference.failed + self.reference.crashed

    @property
    def cpu_seconds(self) -> float:
        return self.reference.cpu_seconds + sum(t.cpu_seconds for t in self.mutants.values())

    @property
    def crashes(self) -> int:
        return self.reference.crashed + sum(t.crashed for t in self.mutants.values())

    def misses(self) -> dict[str, Tally]:
        return {name: t for name, t in self.mutants.items() if t.failed < self.case.seeds}


@dataclass(frozen=True)
class Audit:
    """The audit's result: one row per test, the wall time and the processes used."""

    rows: list[Row]
    seconds: float
    jobs: int

    @property
    def reference_failures(self) -> int:
        return sum(row.reference_failures for row in self.rows)

    @property
    def ok(self) -> bool:
        return self.reference_failures == 0 and not any(row.misses() for row in self.rows)


def run_audit(seeds: int = 1000, pattern: str | None = None, jobs: int = 1,
              progress: Callable[[int, int], None] | None = None) -> Audit:
    """Run every marked test under ``seeds`` seeds on the reference and on the mutants it names."""
    if seeds < 1 or jobs < 1:
        raise AuditError("need at least one seed and one job")
    start = time.perf_counter()
    mutants = load_mutants()
    cases = collect_cases(seeds, pattern, mutants=mutants)
    reference = load_reference(MASTER)
    variants = {REFERENCE: None, **{m: mutants[m] for case in cases for m in case.mark.catches}}
    runner = _Runner(cases, {name: Submission(InProcess(variant_namespace(reference, mutant)))
                             for name, mutant in variants.items()}, reference)
    rows = [Row(case) for case in cases]
    tasks = list(_tasks(cases, jobs))
    with _isolated_globals():
        torch.set_num_threads(1)
        for done, (index, variant, tally) in enumerate(_execute(runner, tasks, jobs), start=1):
            row = rows[index]
            target = row.reference if variant == REFERENCE else row.mutants.setdefault(variant, Tally())
            target.merge(tally)
            if progress:
                progress(done, len(tasks))
    return Audit(rows, time.perf_counter() - start, jobs)


def _tasks(cases: Sequence[Case], jobs: int) -> Iterator[tuple[int, str, int, int]]:
    """(case, variant, first seed, end) chunks, by seed range first so that the slow tests spread over the run."""
    most = max(c.seeds for c in cases)
    chunk = math.ceil(most / (16 * jobs)) if jobs > 1 else most  # small enough for the processes to end together
    for start in range(0, most, chunk):
        for index, case in enumerate(cases):
            if start < case.seeds:
                for variant in (REFERENCE, *case.mark.catches):
                    yield index, variant, start, min(start + chunk, case.seeds)


def _execute(runner: _Runner, tasks: list[tuple[int, str, int, int]],
             jobs: int) -> Iterator[tuple[int, str, Tally]]:
    if jobs == 1:
        for case_index, variant, start, stop in tasks:
            yield case_index, variant, runner.run(case_index, variant, range(start, stop))
        return
    # fork: the children inherit the collected tests and the namespaces, which do not pickle.
    pool = concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                                  initializer=_adopt, initargs=(runner,))
    try:
        futures = [pool.submit(_run_task, task) for task in tasks]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(cancel_futures=True)  # after an error, the rest is not worth waiting for


@contextlib.contextmanager
def _isolated_globals() -> Iterator[None]:
    """Restore torch's thread count and the global random generators afterwards (the audit seeds them)."""
    threads, state = torch.get_num_threads(), (torch.get_rng_state(), random.getstate(), np.random.get_state())
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_rng_state(state[0])
        random.setstate(state[1])
        np.random.set_state(state[2])


# ---------------------------------------------------------------------- the report


def format_report(audit: Audit) -> str:
    """The tables (one per test file), the details of what went wrong, the verdict line and the wall time."""
    lines: list[str] = []
    for file in dict.fromkeys(row.case.file for row in audit.rows):
        rows = [row for row in audit.rows if row.case.file == file]
        lines += [*_table(file, rows), ""]
    details = []
    for row in audit.rows:
        def event(what: str, seen: tuple[int, str] | None, case: Case = row.case) -> None:
            if seen is not None:
                k, message = seen
                details.append(f"  {what} {case.name} under seed #{k} ({case.seed(k)}){': ' if message else ''}"
                               f"{message}")

        event("the reference failed", row.reference.first_failure)
        event("the reference crashed", row.reference.first_crash)
        for name, tally in row.mutants.items():
            event(f"{name} crashed", tally.first_crash)
            if name in row.misses() and tally.first_pass is not None:
                event(f"{name} passed", (tally.first_pass, ""))
    if details:
        lines += ["details:", *details]
    runs = sum(row.reference.runs for row in audit.rows)
    misses = [f"{name} by {row.case.name} ({t.failed}/{row.case.seeds})"
              for row in audit.rows for name, t in row.misses().items()]
    lines.append(f"reference: {audit.reference_failures} failures in {runs} runs; "
                 + ("mutants: all caught" if not misses else "mutants missed: " + ", ".join(misses)))
    cpu = sum(row.cpu_seconds for row in audit.rows)
    lines.append(f"wall time: {audit.seconds:.0f} s with {audit.jobs} job(s); the tests took {cpu:.0f} s of CPU")
    return "\n".join(lines)


def _table(file: str, rows: list[Row]) -> list[str]:
    mutants = list(dict.fromkeys(name for row in rows for name in row.case.mark.catches))
    most = max(row.case.seeds for row in rows)
    headers = [file, "alpha", "seeds", "ref fail", "crashes", *mutants, "cpu"]
    body = []
    for row in rows:
        cells = [row.case.short, "0" if row.case.mark.alpha == 0 else f"{row.case.mark.alpha:.2g}",
                 f"{row.case.seeds}{'*' if row.case.seeds < most else ''}", str(row.reference_failures),
                 str(row.crashes)]
        cells += [f"{row.mutants[m].failed}/{row.case.seeds}" if m in row.mutants else "" for m in mutants]
        cells.append(f"{row.cpu_seconds:.1f} s")
        body.append(cells)
    # Mutant names are long: their headers wrap at underscores onto as many lines as needed.
    wrapped = [[h] if i < 5 or i == len(headers) - 1 else _wrap(h, 12) for i, h in enumerate(headers)]
    widths = [max(max(len(part) for part in w), *(len(r[i]) for r in body)) for i, w in enumerate(wrapped)]
    height = max(len(w) for w in wrapped)
    out = []
    for level in range(height):
        parts = [(w[level - height + len(w)] if level >= height - len(w) else "") for w in wrapped]
        out.append(_line(parts, widths))
    out.append("  ".join("-" * w for w in widths))
    out += [_line(cells, widths) for cells in body]
    return out


def _wrap(name: str, width: int) -> list[str]:
    pieces = textwrap.wrap(name.replace("_", " "), width) or [name]
    return [piece.replace(" ", "_") + ("_" if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces)]


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "  ".join(padded).rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run the audit, print the report; the exit code says whether the targets hold."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="seeds per test (default: 1000)")
    parser.add_argument("--tests", metavar="PATTERN",
                        help="only the tests whose name matches this regular expression")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: one per CPU)")
    args = parser.parse_args(argv)

    started, tty = time.perf_counter(), sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty or done == total or done % max(1, total // 10) == 0:
            end = "\n" if done == total or not tty else ""
            print(f"\r{done}/{total} tasks, {time.perf_counter() - started:.0f} s", end=end, file=sys.stderr,
                  flush=True)

    try:
        audit = run_audit(args.seeds, args.tests, args.jobs, progress)
    except AuditError as exc:
        print(f"mc_audit: {exc}", file=sys.stderr)
        return 2
    print(format_report(audit))
    return 0 if audit.ok else 1


if __name__ == "__main__":
    sys.exit(main())

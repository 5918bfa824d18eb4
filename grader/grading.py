"""Grading one notebook: worker, pytest run, grade model.

The steps, in order: the notebook's code cells run in a worker (started by the
caller as early as possible); pytest collects the public tests (and the hidden
ones when solutions are given) with :class:`~grader.plugin.GradingPlugin`;
the tests call the submission through the proxy; the results, the cell
errors and the written answers become one :class:`~grader.model.Grade`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import threading
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

import grader
from grader.errors import GraderError, InputError
from grader.figures import build_figures
from grader.job import Job
from grader.model import CellError, Figure, Grade, QuestionResult, TestResult, WrittenAnswer
from grader.plugin import GradingPlugin
from grader.proxy import Submission
from grader.reference import load_reference
from grader.sandbox.launch import WorkerProcess, spawn_worker
from grader.sandbox.session import CellOutcome, WorkerSession

# pytest plugins for what never happens here (student code runs in the worker)
# or is never used; unraisableexception alone costs about 0.9 s of garbage
# collections at the end of a run.
UNUSED_PLUGINS = ("unraisableexception", "threadexception", "logging", "pastebin", "doctest", "junitxml",
                  "setuponly", "setupplan")


class LazySubmission:
    """The notebook's run in the worker, started early; the submission once it has finished.

    The cells run in another process, so the grader need not wait for them:
    :meth:`start` drives the run from a background thread (which only waits on
    the pipe) while pytest collects the tests, and the first test that asks
    for the submission waits for the run to end. Until then no other thread
    touches the session.
    """

    def __init__(self, session: WorkerSession, cells: tuple[str, ...]) -> None:
        self.session = session
        self.cells = cells
        self.outcomes: list[CellOutcome] | None = None
        self.seconds = 0.0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        """Start running the notebook's cells in the background."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="grader-notebook", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        start = time.perf_counter()
        try:
            self.outcomes = self.session.run_notebook(self.cells)
        except BaseException as error:  # noqa: BLE001 - handed to the test that waits
            self._error = error
        self.seconds = time.perf_counter() - start

    def __call__(self) -> Submission:
        self.start()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return Submission(self.session)


def grade(job: Job, worker: WorkerProcess | None = None,
          spawn: Callable[[Mapping[str, str]], WorkerProcess] = spawn_worker) -> Grade:
    """Grade the job's notebook; ``worker`` is one the caller started early, if any.

    ``spawn`` starts the job's workers (a batch forks them from a zygote).
    """
    start = time.perf_counter()
    with WorkerSession(job.limits, spawn=spawn, first=worker) as session:
        session.start()
        lazy = LazySubmission(session, job.notebook.code_cells)
        lazy.start()
        reference = reference_loader(job)
        plugin = build_plugin(job, lazy, reference)
        tests_start = time.perf_counter()
        run_pytest(test_roots(job), plugin)
        tests_seconds = time.perf_counter() - tests_start
        submission = lazy()  # no test may have asked for it: its cell errors are reported all the same
        resources = session.stats()
        # After pytest has returned, so this thread alone uses the session.
        figures_start = time.perf_counter()
        figures = figures_of(job, submission, reference)
        figures_seconds = time.perf_counter() - figures_start
    timings = {
        "total": time.perf_counter() - start,
        "notebook": lazy.seconds,
        "tests": tests_seconds,
    }
    if job.assignment.figures:
        timings["figures"] = figures_seconds
    return replace(build_grade(job, plugin, lazy.outcomes or [], session, timings, resources), figures=figures)


def reference_loader(job: Job) -> Callable[[], types.SimpleNamespace] | None:
    """Loads the master's reference once per grading, for the tests and the figures; None without solutions."""
    if job.solutions is None:
        return None
    return functools.cache(functools.partial(load_reference, job.solutions.master))


def figures_of(job: Job, submission: Submission,
               reference: Callable[[], types.SimpleNamespace] | None) -> tuple[Figure, ...]:
    """The manifest's figures of the submission, over the reference's curves when solutions are given."""
    if not job.assignment.figures:
        return ()
    namespace = None
    if reference is not None:
        with contextlib.suppress(GraderError):  # a broken master already fails the hidden tests
            namespace = reference()
    return build_figures(job.assignment.figures, submission, namespace)


def build_plugin(job: Job, submission: LazySubmission,
                 reference: Callable[[], types.SimpleNamespace] | None) -> GradingPlugin:
    """The plugin for a job: the lazy submission and, with solutions, the reference."""
    hidden = [job.solutions.hidden_tests] if job.solutions else []
    return GradingPlugin(job.assignment.questions, submission, reference, hidden, test_roots(job),
                         tests_cpu_time=job.limits.tests_cpu_time)


def test_roots(job: Job) -> list[Path]:
    """The folders of tests to run: public, then hidden."""
    roots = [job.assignment.public_tests]
    if job.solutions is not None:
        roots.append(job.solutions.hidden_tests)
    return [r for r in roots if r.is_dir()]


def run_pytest(roots: list[Path], plugin: GradingPlugin) -> None:
    """Run pytest in this process on ``roots`` with ``plugin``; GraderError if tests are broken."""
    if not roots:
        raise InputError("the assignment has no tests folder")
    args = [
        *(str(r) for r in roots),
        "-c", os.devnull,
        "--rootdir", os.path.commonpath([str(r.resolve()) for r in roots]),
        "--import-mode=importlib",
        "--disable-plugin-autoload",
        "-p", "no:cacheprovider",
        "--tb=no",  # the plugin reads exceptions, not tracebacks: formatting them is slow
        "--capture=sys",  # no student code runs here, so fd-level capture buys nothing
        "-p", "no:faulthandler",
        "-q",
        "-p", "no:stepwise",
        "-p", "no:warnings",
        *(arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")),
    ]
    # pytest's terminal reporter stays (assertion explanations need it) but
    # writes to nowhere: the grade is the output.
    with contextlib.redirect_stdout(io.StringIO()):
        code = pytest.main(args, plugins=[plugin])
    # Collection errors first: pytest reports them as INTERRUPTED too ("1 error during collection").
    if plugin.collection_errors:
        raise GraderError("the tests could not be collected: " + "; ".join(plugin.collection_errors[:3]))
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # Ctrl-C: a half-run suite is no grade
    if plugin.sandbox_error is not None:
        raise plugin.sandbox_error
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        raise GraderError(f"pytest failed to run the tests (exit code {int(code)})")


def build_grade(job: Job, plugin: GradingPlugin, outcomes: list[CellOutcome], session: WorkerSession,
                timings: dict[str, float], resources: dict[str, float] | None = None) -> Grade:
    """Turn the plugin's results and the worker's cell outcomes into a Grade."""
    warnings: list[str] = []
    questions = []
    for q in job.assignment.questions:
        tests = [_result_or_missing(plugin, nodeid) for nodeid, item in plugin.graded.items()
                 if item.mark.question == q.id]
        if not tests:
            warnings.append(f"{q.id} has no tests yet: not graded")
            continue
        questions.append(QuestionResult(q.id, round(sum(t.points for t in tests), 6), q.points, tuple(tests)))
    if plugin.unmarked:
        warnings.append(f"{len(plugin.unmarked)} test(s) without a question marker were not graded")
    if session.restarts:
        warnings.append(f"the notebook's process was restarted {session.restarts} time(s) after a crash or time-out")
    if plugin.out_of_time:
        warnings.append(f"{plugin.out_of_time_text()}: the test running then was stopped and the rest were not run")
    if session.out_of_time:
        warnings.append(f"{session.out_of_time_text()}: what was still to run was not run, and its tests failed")
    numbers = job.notebook.cell_numbers
    cell_errors = tuple(
        CellError(numbers[o.index], o.ename, o.evalue, o.traceback) for o in outcomes if o.status != "ok"
    )
    written = tuple(WrittenAnswer(w.id, w.points, job.notebook.answers.get(w.id, "")) for w in job.assignment.written)
    warnings += [f"no answer cell tagged answer:{w.id}" for w in job.assignment.written
                 if w.id not in job.notebook.answers]
    return Grade(
        assignment=job.assignment.name,
        submission=job.notebook.path.stem,
        questions=tuple(questions),
        cell_errors=cell_errors,
        written=written,
        warnings=tuple(warnings),
        timings={k: round(v, 3) for k, v in timings.items()},
        resources={k: round(v, 3) for k, v in (resources or {}).items()},
        sandbox=session.sandbox,
        hidden_tests=job.solutions is not None,
        grader_version=grader.__version__,
    )


def _result_or_missing(plugin: GradingPlugin, nodeid: str) -> TestResult:
    """A collected test that produced no result (the run stopped) earns nothing."""
    result = plugin.results.get(nodeid)
    if result is not None:
        return result
    item = plugin.graded[nodeid]
    return TestResult(item.name, "error", 0.0, float(item.max_points), "the test did not run",
                      item.mark.hint, 0.0, item.visibility, item.mark.part)

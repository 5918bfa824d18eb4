"""The pytest plugin that grades: question markers, fixtures, score collection.

A grading test is a plain pytest test with a marker::

    @pytest.mark.question("q1", part="f", hint="f must keep the input's dtype")
    def test_f_dtype(submission): ...

A question's points (from the manifest) are split equally over its parts (a
part defaults to the test function's name; tests of one student function
share a part), and a part's share equally over its test items, so one wrong
function loses only its own share. A test that fails, errors or is skipped
earns nothing: grading fails closed.

Fixtures: ``submission`` (the proxy to the worker), ``reference`` (the master
notebook's solution cells, run in this trusted process; hidden tests only),
``seed`` and ``generator`` (derived from the test's id, so Monte-Carlo tests
are reproducible).

The plugin is registered by :mod:`grader.grading` for ``grader check``, or by
:mod:`grader.standalone` for a plain ``pytest -p grader.standalone`` run.
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import sys
import threading
import time
import types
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.assignment import Question
from grader.errors import CheckFailure, SandboxError, SubmissionError, TestsOutOfTime
from grader.model import Outcome, TestResult, Visibility
from grader.proxy import Submission

ITEM_KEY = pytest.StashKey["GradedItem"]()
PLUGIN_KEY = pytest.StashKey["GradingPlugin"]()


@dataclass(frozen=True)
class QuestionMark:
    """The ``question`` marker of a test, checked."""

    question: str
    part: str
    hint: str


@dataclass(frozen=True)
class GradedItem:
    """What a collected test is worth and how it may be shown."""

    mark: QuestionMark
    max_points: Fraction
    visibility: Visibility
    name: str


def question_mark(item: pytest.Item) -> QuestionMark | None:
    """The test's ``question`` marker, or None if it has none."""
    marker = item.get_closest_marker("question")
    if marker is None:
        return None
    if not marker.args or not isinstance(marker.args[0], str):
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.question needs a question id")
    function = getattr(item, "function", None)
    default_part = getattr(item, "originalname", item.name)
    doc = (getattr(function, "__doc__", None) or "").strip().splitlines()
    return QuestionMark(
        question=marker.args[0],
        part=str(marker.kwargs.get("part", default_part)),
        hint=str(marker.kwargs.get("hint", doc[0] if doc else "")),
    )


def split_points(questions: Iterable[Question], marks: dict[str, QuestionMark]) -> dict[str, Fraction]:
    """Each test's points: a question's points split over parts, then over tests."""
    points = {q.id: Fraction(q.points).limit_denominator(10**6) for q in questions}
    parts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for nodeid, mark in marks.items():
        parts[mark.question][mark.part].append(nodeid)
    shares: dict[str, Fraction] = {}
    for qid, by_part in parts.items():
        for nodeids in by_part.values():
            for nodeid in nodeids:
                shares[nodeid] = points.get(qid, Fraction(0)) / len(by_part) / len(nodeids)
    return shares


def seed_for(nodeid: str) -> int:
    """A 63-bit seed derived from a test's id: the same on every run and machine."""
    return int.from_bytes(hashlib.sha256(nodeid.encode()).digest()[:8], "big") >> 1


class GradingPlugin:
    """The state of one grading run: the submission, the reference, the results."""

    def __init__(
        self,
        questions: Iterable[Question],
        submission: Callable[[], Submission],
        reference: Callable[[], types.SimpleNamespace] | None,
        hidden_roots: Iterable[Path] = (),
        test_roots: Iterable[Path] = (),
        *,
        tests_cpu_time: float,
    ) -> None:
        self.questions = tuple(questions)
        self._submission_factory = submission
        self._reference_factory = reference
        self.hidden_roots = tuple(p.resolve() for p in hidden_roots)
        self.test_roots = tuple(p.resolve() for p in test_roots)
        self.graded: dict[str, GradedItem] = {}
        self.results: dict[str, TestResult] = {}
        self.unmarked: list[str] = []
        self.collection_errors: list[str] = []
        self.sandbox_error: SandboxError | None = None
        self._files: dict[str, tuple[str | None, Visibility]] = {}  # test file -> (name, visibility)
        self.tests_cpu_time = tests_cpu_time
        self.tests_cpu_used = 0.0

    def open_submission(self) -> Submission:
        """The submission proxy, the notebook run; stops the run if the sandbox is broken."""
        try:
            return self._submission_factory()
        except SandboxError as exc:
            self.sandbox_error = exc
            pytest.exit(str(exc), returncode=3)

    def open_reference(self) -> types.SimpleNamespace:
        """The reference namespace; skips (earning nothing) without solutions."""
        if self._reference_factory is None:
            pytest.skip("the reference solution is only available with --solutions")
        return self._reference_factory()

    # ------------------------------------------------------------------ hooks

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[PLUGIN_KEY] = self
        config.addinivalue_line(
            "markers", "question(id, part=None, hint=None): grade this test as part of question `id`"
        )
        # Grading ignores it; benchmarks/mc_audit.py runs every marked test under many seeds against the
        # reference (expecting no failure) and against the mutants it names (expecting a catch every time).
        config.addinivalue_line(
            "markers",
            "montecarlo(alpha, catches=()): a test whose verdict depends on the random `seed`: `alpha` bounds "
            "the probability that a correct submission fails it, `catches` names the wrong solutions (from "
            "tests/assignment's mutant catalogues, of this test's own part) it fails under every seed",
        )
        if not config.pluginmanager.is_registered(sys.modules[__name__]):
            config.pluginmanager.register(sys.modules[__name__], "grader-fixtures")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        marks: dict[str, QuestionMark] = {}
        for item in items:
            mark = question_mark(item)
            if mark is None:
                self.unmarked.append(item.nodeid)
            else:
                marks[item.nodeid] = mark
        shares = split_points(self.questions, marks)
        known = {q.id for q in self.questions}
        for item in items:
            if item.nodeid in marks:
                mark = marks[item.nodeid]
                if mark.question not in known:
                    self.collection_errors.append(f"{item.nodeid}: unknown question {mark.question!r}")
                graded = GradedItem(mark, shares[item.nodeid], self._visibility(item), self._name(item))
                item.stash[ITEM_KEY] = graded
                self.graded[item.nodeid] = graded

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid or 'collection'}: {_first_line(str(report.longrepr))}")

    @property
    def out_of_time(self) -> bool:
        """Whether the tests' own work has used up its CPU time."""
        return self.tests_cpu_used >= self.tests_cpu_time

    def out_of_time_text(self) -> str:
        """What running out of the tests' CPU time did, as students read it."""
        return f"the tests' own work used up its CPU time ({self.tests_cpu_time:g} s in one grading)"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Run the test within what is left of the tests' CPU time (all of it is the grader's)."""
        if self.out_of_time:
            raise TestsOutOfTime(f"not run: {self.out_of_time_text()}")
        start = time.process_time()
        try:
            with _cpu_alarm(self.tests_cpu_time - self.tests_cpu_used, f"stopped: {self.out_of_time_text()}"):
                return (yield)
        except TestsOutOfTime:
            self.tests_cpu_used = self.tests_cpu_time  # the timer's clock, not ours, says when
            raise
        finally:
            self.tests_cpu_used += time.process_time() - start

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        graded = item.stash.get(ITEM_KEY, None)
        if graded is None:
            return report
        outcome: Outcome
        if report.passed and call.when == "call":
            outcome = "passed"
        elif report.failed:
            outcome = "failed" if call.when == "call" else "error"
        elif report.skipped:
            outcome = "skipped"
        else:
            return report
        previous = self.results.get(item.nodeid)
        if previous is not None and previous.outcome != "passed":
            return report  # the first failure (setup or call) says why
        message = _message(call.excinfo.value if call.excinfo else None, graded.visibility)
        if outcome == "skipped" and not message:
            message = "skipped"
        duration = call.duration + (previous.duration if previous else 0.0)
        earned = graded.max_points if outcome == "passed" else Fraction(0)
        self.results[item.nodeid] = TestResult(
            name=graded.name,
            outcome=outcome,
            points=float(earned),
            max_points=float(graded.max_points),
            message=message,
            hint=graded.mark.hint if outcome != "passed" else "",
            duration=round(duration, 6),
            visibility=graded.visibility,
            part=graded.mark.part,
        )
        return report

    def _name(self, item: pytest.Item) -> str:
        """The test's name as students see it: ``tests/test_q1.py::test_f``, the same on every machine."""
        file, _ = self._file(item)
        if file is None:
            return item.nodeid
        inside = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name  # keeps a class
        return f"{file}::{inside}"

    def _visibility(self, item: pytest.Item) -> Visibility:
        return self._file(item)[1]

    def _file(self, item: pytest.Item) -> tuple[str | None, Visibility]:
        """The item's test file as students see it (None if outside the roots) and its visibility.

        Resolved once per file: hundreds of items share a handful of files.
        """
        key = str(item.path)
        if key not in self._files:
            path = Path(key).resolve()
            root = next((r for r in self.test_roots if path.is_relative_to(r)), None)
            hidden = any(path.is_relative_to(r) for r in self.hidden_roots)
            self._files[key] = (f"{root.name}/{path.relative_to(root).as_posix()}" if root else None,
                                "hidden" if hidden else "public")
        return self._files[key]


@contextlib.contextmanager
def _cpu_alarm(seconds: float, message: str) -> Iterator[None]:
    """Raise TestsOutOfTime(message) in this thread once the process has used ``seconds`` more CPU time.

    A no-op off the main thread (signals are delivered there) or without ``setitimer``.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise TestsOutOfTime(message)

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _message(error: BaseException | None, visibility: Visibility) -> str:
    """What a student may read of a failure: never a hidden test's code or values."""
    if error is None:
        return ""
    if isinstance(error, CheckFailure) and visibility == "hidden":
        return _first_line(getattr(error, "without_detail", str(error)), 500)  # a subclass may skip our __init__
    if isinstance(error, (SubmissionError, CheckFailure, TestsOutOfTime)):
        return _first_line(str(error), 500)
    if isinstance(error, pytest.skip.Exception):
        return _first_line(str(error.msg))
    if visibility == "hidden":
        if isinstance(error, AssertionError):
            return "a hidden test failed"
        return f"a hidden test failed ({type(error).__name__})"
    return f"{type(error).__name__}: {_first_line(str(error))}".rstrip(": ")


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit] + "..."


# ---------------------------------------------------------------------- fixtures
# Module-level, reading the run's plugin from config.stash: pytest deprecates
# session-scoped fixtures defined as methods of a plugin instance.


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> Submission:
    """The student's notebook, run in the worker; calls go through the proxy."""
    return request.config.stash[PLUGIN_KEY].open_submission()


@pytest.fixture(scope="session")
def reference(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    """The reference solution (hidden tests only; not available to students)."""
    return request.config.stash[PLUGIN_KEY].open_reference()


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """A seed derived from the test's name (as students see it: the same on every machine)."""
    graded = request.node.stash.get(ITEM_KEY, None)
    return seed_for(graded.name if graded else request.node.nodeid)


@pytest.fixture
def generator(seed: int) -> torch.Generator:
    """A torch.Generator seeded from the test's id."""
    return torch.Generator().manual_seed(seed)

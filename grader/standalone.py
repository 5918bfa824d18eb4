"""Grading from a plain pytest command line: ``pytest -p grader.standalone``.

    pytest -p grader.standalone --grader-notebook NB [--grader-assignment DIR]
           [--grader-solutions DIR] [--grader-json PATH] TESTS...

Registers a :class:`~grader.plugin.GradingPlugin` for the notebook, closes its
worker at the end, and writes the grade as JSON when asked. ``grader check``
does the same with its own output; this entry point lets pytest's tooling
(and the project's ``pytester`` tests) drive the plugin as a black box.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import GraderError
from grader.grading import LazySubmission, build_grade, build_plugin, reference_loader
from grader.job import Job, prepare
from grader.plugin import GradingPlugin
from grader.reports.json_report import write_json
from grader.sandbox.session import WorkerSession

STATE_KEY = pytest.StashKey[tuple[Job, GradingPlugin, WorkerSession, LazySubmission]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader")
    group.addoption("--grader-notebook", help="grade this notebook (run in a sandboxed worker)")
    group.addoption("--grader-assignment", help="the assignment folder or name (default: from the notebook)")
    group.addoption("--grader-solutions", help="the solutions folder: hidden tests' reference fixture")
    group.addoption("--grader-json", help="write the grade as JSON to this path")


def pytest_configure(config: pytest.Config) -> None:
    notebook = config.getoption("grader_notebook")
    if not notebook:
        return
    solutions = config.getoption("grader_solutions")
    try:
        job = prepare(Path(notebook), config.getoption("grader_assignment"), Path(solutions) if solutions else None)
    except GraderError as exc:
        raise pytest.UsageError(str(exc)) from None
    session = WorkerSession(job.limits)
    session.start()
    lazy = LazySubmission(session, job.notebook.code_cells)
    plugin = build_plugin(job, lazy, reference_loader(job))
    config.stash[STATE_KEY] = (job, plugin, session, lazy)
    config.pluginmanager.register(plugin, "grader-grading")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        return
    job, plugin, session, lazy = state
    try:
        path = config.getoption("grader_json")
        if path:
            write_json(build_grade(job, plugin, lazy.outcomes or [], session, {}), Path(path))
    finally:
        session.close()

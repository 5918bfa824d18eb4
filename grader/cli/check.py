"""``grader check NOTEBOOK``: the student's command.

Starts the worker before anything heavy is imported, so that the worker's
imports of torch and friends overlap with the grader's own (the slow part of a
check on a 2-core machine), then grades and prints the per-question table.
"""

from __future__ import annotations

import sys
from contextlib import redirect_stderr
from functools import wraps
from pathlib import Path
from typing import Any

import click

from grader.cli.common import EXIT_FAILED, EXIT_OK, F, limit_option, one_line_errors, parse_limits
from grader.errors import InputError
from grader.job import prepare, start_worker
from grader.reports.github import CommandGuard, grade_to_annotations


def workflow_commands_guarded(command: F) -> F:
    """``--annotations github``: everything the check prints goes between ``::stop-commands::`` and its token.

    Outside :func:`one_line_errors`, so that its one-line error, which may
    quote student text, is inside the guard too. Standard error joins standard
    output meanwhile: the runner reads the two pipes in separate threads, and
    only one stream keeps the order "stop, student text, resume".
    """

    @wraps(command)
    def wrapper(*args: Any, annotations: str | None, **kwargs: Any) -> Any:
        if annotations is None:
            return command(*args, guard=None, **kwargs)
        guard = CommandGuard(sys.stdout)
        guard.open()
        try:
            with redirect_stderr(sys.stdout):
                return command(*args, guard=guard, **kwargs)
        finally:
            sys.stderr.flush()
            guard.close()

    return wrapper  # type: ignore[return-value]


def annotation_path(notebook: Path) -> str:
    """The notebook as GitHub names it in annotations: relative to the current folder (the workspace)."""
    try:
        return notebook.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return notebook.as_posix()


@click.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option("--assignment", metavar="NAME_OR_DIR", help="The assignment (default: from the notebook's metadata).")
@click.option("--solutions", type=click.Path(path_type=Path, file_okay=False),
              help="Instructors: the solutions folder; adds the hidden tests and the reference.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the grade as JSON.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), help="Write JUnit XML.")
@click.option("--summary", "summary_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write a self-contained HTML feedback page with figures.")
@click.option("--annotations", type=click.Choice(["github"]),
              help="Also print GitHub Actions annotations for failing questions, with everything "
                   "else printed between ::stop-commands:: and a random token (see docs/ci.md).")
@limit_option
@workflow_commands_guarded
@one_line_errors
def check(notebook: Path, assignment: str | None, solutions: Path | None, json_path: Path | None,
          junit_path: Path | None, summary_path: Path | None, html_path: Path | None,
          limits: tuple[str, ...], guard: CommandGuard | None) -> None:
    """Run the tests of an assignment on NOTEBOOK and show the score with hints."""
    sys.dont_write_bytecode = True  # grading writes nothing beside the tests
    job = prepare(notebook, assignment, solutions, parse_limits(limits), validate=False)
    worker = start_worker(job)
    try:
        # Deferred on purpose: torch, sympy and pytest take seconds to import, and
        # the worker started above imports its own copies meanwhile.
        from rich.console import Console

        from grader.grading import grade
        from grader.reports.html import write_html
        from grader.reports.json_report import write_json
        from grader.reports.junit import write_junit
        from grader.reports.markdown import write_markdown
        from grader.reports.terminal import render_terminal
    except BaseException:  # Ctrl-C or a kill meanwhile: grade() would have stopped the worker
        worker.close()
        raise

    result = grade(job, worker)
    render_terminal(result, Console())
    for path, write in ((json_path, write_json), (junit_path, write_junit), (summary_path, write_markdown),
                        (html_path, write_html)):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write(result, path)
            except OSError as exc:
                raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if guard is not None:
        guard.close(grade_to_annotations(result, annotation_path(notebook)))
    sys.exit(EXIT_OK if result.all_passed else EXIT_FAILED)

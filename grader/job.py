"""What to grade: a notebook, its assignment, its solutions and limits, all checked.

Light on imports on purpose (no torch, sympy, pytest or nbformat), so that the command
line can check its input and start the worker before the heavy imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment, Solutions, find_assignment, find_solutions
from grader.errors import InputError, OtherAssignment
from grader.limits import Limits
from grader.notebook import Notebook, read_notebook, validate_notebook
from grader.sandbox.launch import WorkerProcess, spawn_worker
from grader.sandbox.leftovers import remove_leftovers


@dataclass(frozen=True)
class Job:
    """What to grade: a notebook, its assignment, and optionally the solutions."""

    notebook: Notebook
    assignment: Assignment
    solutions: Solutions | None
    limit_overrides: Mapping[str, Any]

    @property
    def limits(self) -> Limits:
        """The assignment's limits with the caller's overrides."""
        return self.assignment.limits.updated(self.limit_overrides)


def prepare(notebook: Path, assignment: str | None = None, solutions: Path | None = None,
            limits: Mapping[str, Any] | None = None, validate: bool = True) -> Job:
    """Read the notebook and find its assignment and solutions; InputError if any is wrong.

    ``validate=False`` leaves the schema check of an nbformat 4 file to
    :func:`grader.notebook.validate_notebook` (nbformat is slow to import).
    """
    if solutions is not None and notebook.is_symlink():
        raise InputError(f"{notebook} is a symbolic link: grade the file it points to, not a link to it")
    nb = read_notebook(notebook, validate)
    found = find_assignment(notebook, assignment, nb.assignment, solutions)
    if nb.assignment is not None and nb.assignment != found.name:
        raise OtherAssignment(notebook, nb.assignment, found.name)
    sols = find_solutions(solutions, found) if solutions is not None else None
    job = Job(nb, found, sols, dict(limits or {}))
    job.limits  # noqa: B018 - check the overrides now, before anything starts
    return job


def start_worker(job: Job) -> WorkerProcess:
    """The job's worker, started before the heavy imports, once the notebook passed its schema check.

    The worker imports torch while the check runs; a notebook that fails it
    (InputError), or Ctrl-C or a kill meanwhile, leaves no worker behind.
    """
    remove_leftovers()  # of graders killed outright earlier
    worker = spawn_worker(job.limits.to_env())
    try:
        validate_notebook(job.notebook)
    except BaseException:
        worker.close()
        raise
    return worker

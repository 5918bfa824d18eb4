"""Grading one Gradescope submission: find the notebook, grade it, write ``results.json``.

What ``run_autograder`` (see :mod:`grader.gradescope_zip`) runs inside
Gradescope's container. The tree is Gradescope's::

    /autograder/source/       the autograder zip: autograder.json, assignments/, solutions/
    /autograder/submission/   what the student uploaded
    /autograder/results/      results.json goes here

``AUTOGRADER_ROOT`` moves ``/autograder`` (the project's tests build a fake
tree in a temporary folder). The notebook is graded exactly as
``grader check NOTEBOOK --assignment DIR --solutions DIR`` grades it: the
same job, the same sandboxed worker, the same grade, rendered by
:func:`grader.reports.gradescope.gradescope_results`.

A results.json is always written. A submission the grader cannot grade (no
notebook, several, not a notebook, another assignment's) scores 0 with a
top-level ``output`` that tells the student what to fix; a failure of the
grader itself scores 0, says so (the details go to the log, which
Gradescope shows to staff only), and exits 3.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from grader.assignment import Assignment, Solutions, find_solutions, load_assignment
from grader.errors import GraderError, InputError, OtherAssignment
from grader.gradescope_zip import CONFIG, HiddenVisibility
from grader.job import Job, prepare, start_worker

ROOT_VARIABLE = "AUTOGRADER_ROOT"
DEFAULT_ROOT = Path("/autograder")
EXIT_OK, EXIT_INTERNAL = 0, 3
# Folders of a submission that never hold the notebook to grade (Jupyter's autosaves, macOS zip debris).
_SKIPPED_PARTS = {".ipynb_checkpoints", "__MACOSX"}


class SubmissionProblem(InputError):
    """The submission cannot be graded; the message tells the student what to fix."""


@dataclass(frozen=True)
class Setup:
    """What ``autograder.json`` in the source folder says, resolved and checked."""

    assignment: Assignment
    solutions: Solutions
    solutions_root: Path
    hidden_visibility: HiddenVisibility


def load_setup(source: Path) -> Setup:
    """Read ``autograder.json`` from ``source`` and load the assignment and solutions it names."""
    path = source / CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GraderError(f"cannot read the autograder's {path}: {exc}") from None
    if not isinstance(config, dict):
        raise GraderError(f"{path} is not a JSON object")
    visibility = config.get("hidden_visibility", "after_published")
    if visibility not in get_args(HiddenVisibility):
        raise GraderError(f"{path}: hidden_visibility must be one of {', '.join(get_args(HiddenVisibility))}")
    assignment = load_assignment(source / str(config.get("assignment", "")))
    solutions_root = source / str(config.get("solutions", "solutions"))
    return Setup(assignment, find_solutions(solutions_root, assignment), solutions_root, visibility)


def pick_notebook(submission: Path, assignment: Assignment) -> Path:
    """The one notebook of the submission to grade; :class:`SubmissionProblem` if there is none or no clear one.

    With several notebooks, the one named as the assignment's notebook wins
    (students often upload a copy or a scratch notebook beside it). Symbolic
    links are refused: one could point at the reference.
    """
    expected = assignment.notebook.name
    files = sorted(p for p in submission.rglob("*") if p.is_file()
                   and not _SKIPPED_PARTS & set(p.relative_to(submission).parts)) if submission.is_dir() else []
    # A link could point at the reference in /autograder/source: only the student's own files are graded.
    inside = submission.resolve()
    links = [p for p in files if p.is_symlink() or not p.resolve().is_relative_to(inside)]
    if links:
        names = ", ".join(p.relative_to(submission).as_posix() for p in links[:5])
        raise SubmissionProblem(f"Your submission contains links ({names}); submit the notebook file itself.")
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    if len(notebooks) == 1:
        return notebooks[0]
    if not notebooks:
        found = ""
        if files:
            names = ", ".join(p.relative_to(submission).as_posix() for p in files[:5])
            found = f" (it has {names}{', ...' if len(files) > 5 else ''})"
        raise SubmissionProblem(f"Your submission has no Jupyter notebook (.ipynb file){found}. "
                                f"Submit your notebook {expected}, not a PDF or Python export of it.")
    named = [p for p in notebooks if p.name == expected]
    if len(named) == 1:
        return named[0]
    names = ", ".join(p.relative_to(submission).as_posix() for p in notebooks)
    raise SubmissionProblem(f"Your submission has {len(notebooks)} notebooks ({names}) and the autograder "
                            f"cannot tell which one to grade. Submit only your notebook {expected}.")


def prepare_submission(notebook: Path, setup: Setup) -> Job:
    """The grading job for ``notebook``; :class:`SubmissionProblem` if it is not this assignment's notebook."""
    try:
        return prepare(notebook, str(setup.assignment.root), setup.solutions_root, validate=False)
    except OtherAssignment as exc:  # said as a student should read it
        raise SubmissionProblem(
            f"This notebook belongs to the assignment {exc.declared!r}, but this Gradescope assignment is "
            f"{exc.expected!r}. Submit your notebook for {exc.expected!r} "
            f"({setup.assignment.notebook.name}).") from None


def grade_results(job: Job, setup: Setup) -> dict[str, Any]:
    """Grade the job as ``grader check --solutions`` does and render Gradescope's results."""
    worker = start_worker(job)
    # Deferred as in grader.cli.check: the worker imports torch meanwhile.
    from grader.grading import grade
    from grader.reports.gradescope import gradescope_results

    try:
        result = grade(job, worker)
    except InputError as exc:  # raised while grading: the suite's fault, not the notebook's
        raise GraderError(str(exc)) from None
    print(f"{job.assignment.name}: {result.score:g} / {result.max_score:g} ({job.notebook.path.name})")
    return gradescope_results(result, setup.hidden_visibility)


def zero_results(output: str, seconds: float = 0.0) -> dict[str, Any]:
    """A results.json document with score 0 and ``output`` shown to the student."""
    return {"score": 0, "execution_time": round(seconds), "output": output, "output_format": "text",
            "stdout_visibility": "hidden", "tests": []}


def run(root: Path) -> int:
    """Grade the submission under ``root`` and write ``root/results/results.json``; the exit code."""
    start = time.perf_counter()
    submission = root / "submission"
    code = EXIT_OK
    try:
        setup = load_setup(root / "source")
        notebook = pick_notebook(submission, setup.assignment)
        try:
            results = grade_results(prepare_submission(notebook, setup), setup)
        except InputError as exc:
            if isinstance(exc, SubmissionProblem):
                raise
            # nbformat's and the reader's messages name the file by its path in the container.
            reason = str(exc).replace(str(notebook), notebook.relative_to(submission).as_posix()).rstrip(".")
            raise SubmissionProblem(f"Your notebook could not be graded: {reason}. "
                                    "Download it again from Jupyter (File > Download) and resubmit it.") from None
    except SubmissionProblem as exc:
        print(f"not graded: {exc}")
        results = zero_results(f"Autograded score: 0\n{exc}", time.perf_counter() - start)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - a results.json whatever broke
        print(f"grader: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = EXIT_INTERNAL
        # The details stay in the log (Gradescope shows it to staff): they may name hidden files.
        results = zero_results("Autograded score: 0\nThe autograder failed while grading this submission "
                               f"({type(exc).__name__}). This is not a problem with your notebook: "
                               "please tell the course staff.", time.perf_counter() - start)
    write_results(root / "results" / "results.json", results)
    return code


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Write a results.json document (ASCII JSON: lone surrogates from student text stay valid)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")

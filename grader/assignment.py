"""Assignments and their solutions on disk: the manifest, finding them, their parts.

An assignment is a folder with ``assignment.toml`` (the manifest), the student
notebook and ``tests/`` (public tests). Its solutions live in
``<solutions>/<name>/``: the master notebook ``solution.ipynb`` and
``hidden_tests/``, beside the manifest and public tests the student folder is
built from (:mod:`grader.student_folder`); so checking the master finds the
master folder's own manifest and tests. The manifest fixes the questions,
their points and the limits::

    name = "optimization_intro"
    notebook = "assignment.ipynb"
    [questions.q1]
    points = 10
    functions = ["f", "g"]
    [written.w1]
    points = 5
    [limits]
    cell_timeout = 60
    [[figures]]                      # drawn on the feedback page, optional
    title = "Risk and empirical risk"
    functions = ["f", "g"]           # elementwise functions of the notebook
    interval = [0.5, 1.5]
    points = 200                     # grid size (default 200)
    minima = "global"                # "none" (default), "global" or "local"
    reference = true                 # draw the reference's curves too (default; needs --solutions)
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from grader.errors import InputError
from grader.limits import Limits

MANIFEST = "assignment.toml"
# What a notebook may declare as its assignment: a folder's name, nothing that walks the file system.
ASSIGNMENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
Minima = Literal["none", "global", "local"]
MAX_FIGURE_POINTS = 2000


@dataclass(frozen=True)
class Question:
    """An autograded question of the manifest."""

    id: str
    points: float
    functions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the feedback page: the notebook's functions drawn on an interval.

    ``minima`` marks, on each curve, its lowest point on the grid
    (``"global"``) or every strict local minimum of the grid with the lowest
    one named (``"local"``).
    """

    title: str
    functions: tuple[str, ...]
    interval: tuple[float, float]
    points: int = 200
    minima: Minima = "none"
    ylabel: str = ""
    reference: bool = True


@dataclass(frozen=True)
class Assignment:
    """An assignment folder and what its manifest says."""

    name: str
    root: Path
    notebook: Path
    public_tests: Path
    questions: tuple[Question, ...]
    written: tuple[Question, ...]
    limits: Limits
    figures: tuple[FigureSpec, ...] = ()


@dataclass(frozen=True)
class Solutions:
    """The instructor's side of an assignment: master notebook and hidden tests."""

    root: Path
    master: Path
    hidden_tests: Path


def load_assignment(root: Path) -> Assignment:
    """Read the manifest of the assignment in ``root``."""
    path = root / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise InputError(f"{root} is not an assignment folder: no {MANIFEST}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{path} has no 'name'")
    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise InputError(f"{path}: [limits] must be a table")
    return Assignment(
        name=name,
        root=root,
        notebook=root / str(data.get("notebook", "assignment.ipynb")),
        public_tests=root / str(data.get("tests", "tests")),
        questions=_questions(data.get("questions", {}), path, "questions"),
        written=_questions(data.get("written", {}), path, "written"),
        limits=Limits().updated(limits),
        figures=_figures(data.get("figures", []), path),
    )


def _figures(entries: Any, path: Path) -> tuple[FigureSpec, ...]:
    """The ``[[figures]]`` array of tables, checked."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InputError(f"{path}: 'figures' must be an array of tables ([[figures]])")
    out = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: figure {number}"
        functions = entry.get("functions")
        if not (isinstance(functions, list) and functions
                and all(isinstance(f, str) and f.isidentifier() and not f.startswith("_") for f in functions)):
            raise InputError(f"{where} needs 'functions', a list of function names")
        interval = entry.get("interval")
        if not (isinstance(interval, list) and len(interval) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in interval)
                and float(interval[0]) < float(interval[1])):
            raise InputError(f"{where} needs 'interval' = [lo, hi] with lo < hi")
        points = entry.get("points", 200)
        if isinstance(points, bool) or not isinstance(points, int) or not 3 <= points <= MAX_FIGURE_POINTS:
            raise InputError(f"{where}: 'points' must be an integer from 3 to {MAX_FIGURE_POINTS}")
        minima = entry.get("minima", "none")
        if minima not in get_args(Minima):
            raise InputError(f"{where}: 'minima' must be one of {', '.join(get_args(Minima))}")
        reference = entry.get("reference", True)
        if not isinstance(reference, bool):
            raise InputError(f"{where}: 'reference' must be true or false")
        out.append(FigureSpec(
            title=str(entry.get("title", ", ".join(functions))),
            functions=tuple(functions),
            interval=(float(interval[0]), float(interval[1])),
            points=points,
            minima=minima,
            ylabel=str(entry.get("ylabel", "")),
            reference=reference,
        ))
    return tuple(out)


def _questions(table: Any, path: Path, section: str) -> tuple[Question, ...]:
    if not isinstance(table, dict):
        raise InputError(f"{path}: [{section}] must be a table")
    out = []
    for qid, entry in table.items():
        points = entry.get("points") if isinstance(entry, dict) else None
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points < math.inf:
            raise InputError(f"{path}: {section}.{qid} needs a non-negative 'points'")
        functions = entry.get("functions", [])
        out.append(Question(qid, float(points), tuple(str(f) for f in functions)))
    return tuple(out)


def find_assignment(notebook: Path, spec: str | None, declared: str | None,
                    solutions: Path | None = None) -> Assignment:
    """The assignment a notebook belongs to.

    ``spec`` (the ``--assignment`` option) is a folder or a name; else the
    name ``declared`` in the notebook's metadata is looked up. A name is a
    folder's name, never a path. Without ``solutions`` (a student checking
    their own work) it is looked for beside the notebook, then in
    ``assignments/<name>`` of the notebook's folder, the current folder and
    their parents.

    With ``solutions`` (grading with the hidden tests) the notebook's folder
    is the student's, and so would be the tests found there, a
    ``conftest.py`` included, run beside the hidden tests and the reference:
    the assignment is then looked for only where the instructor put it,
    ``<solutions>/<name>`` (the master folder) and ``assignments/<name>`` of
    the current folder and its parents.
    """
    if spec is not None and Path(spec).is_dir():
        return load_assignment(Path(spec))
    name = spec or declared
    if name is None:
        beside = notebook.parent / MANIFEST
        if solutions is None and beside.is_file():
            return load_assignment(notebook.parent)
        raise InputError(
            f"{notebook} does not say which assignment it is (no grader metadata); pass --assignment NAME_OR_DIR"
        )
    if not ASSIGNMENT_NAME.fullmatch(name):
        raise InputError(f"{notebook} names its assignment {name[:80]!r}, which is not an assignment's name")
    for folder in _candidates(notebook, name, solutions):
        if (folder / MANIFEST).is_file():
            assignment = load_assignment(folder)
            if assignment.name == name:
                return assignment
    where = f"in {solutions} or assignments/{name} here" if solutions is not None else f"near {notebook}"
    raise InputError(f"assignment {name!r} not found {where}; pass --assignment DIR")


def locate_assignment(name: str, start: Path) -> Assignment | None:
    """The assignment called ``name`` in ``assignments/<name>`` of ``start`` or its parents, if any."""
    start = start.resolve()
    for folder in (d / "assignments" / name for d in (start, *start.parents)):
        if (folder / MANIFEST).is_file():
            assignment = load_assignment(folder)
            if assignment.name == name:
                return assignment
    return None


def _candidates(notebook: Path, name: str, solutions: Path | None) -> list[Path]:
    cwd = Path.cwd()
    if solutions is not None:
        return [solutions / name] + [d / "assignments" / name for d in (cwd, *cwd.parents)]
    found = [notebook.parent.resolve()]
    for start in (notebook.parent.resolve(), cwd):
        found += [d / "assignments" / name for d in (start, *start.parents)]
    return found


def solution_names(root: Path) -> list[str]:
    """The assignments ``root`` (a ``--solutions`` folder) holds solutions of: its folders with a master notebook."""
    try:
        return sorted(d.name for d in root.iterdir() if (d / "solution.ipynb").is_file())
    except OSError:
        return []


def check_test_syntax(folders: Iterable[Path]) -> None:
    """InputError naming the first test file under ``folders`` that is not valid Python.

    A shipped suite with a syntax error fails every student's grading; the
    tools that ship one (``assign``, ``gradescope build``) refuse it first.
    """
    for folder in folders:
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            try:
                compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
            except SyntaxError as error:
                raise InputError(f"{path}:{error.lineno}: {error.msg}: the tests must be valid Python") from None
            except (OSError, ValueError) as error:
                raise InputError(f"cannot read {path}: {error}") from None


def find_solutions(root: Path, assignment: Assignment) -> Solutions:
    """The solutions of ``assignment`` under ``root`` (the ``--solutions`` folder)."""
    folder = root / assignment.name
    if not folder.is_dir():
        raise InputError(f"no solutions for {assignment.name!r} in {root} (expected {folder})")
    master, hidden = folder / "solution.ipynb", folder / "hidden_tests"
    if not master.is_file():
        raise InputError(f"no master notebook at {master}")
    if not hidden.is_dir():  # a misnamed folder graded everything with the public tests alone, and said nothing
        raise InputError(f"no hidden tests at {hidden}")
    return Solutions(folder, master, hidden)

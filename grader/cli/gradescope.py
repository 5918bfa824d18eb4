"""``grader gradescope``: the autograder zip for Gradescope, and what runs inside it.

``build`` writes the zip (:mod:`grader.gradescope_zip`); ``run`` is what the
zip's ``run_autograder`` calls for each submission (:mod:`grader.gradescope_run`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

import click

from grader.assignment import Assignment, find_solutions, load_assignment, locate_assignment
from grader.cli.common import EXIT_OK, one_line_errors
from grader.errors import InputError
from grader.gradescope_run import DEFAULT_ROOT, ROOT_VARIABLE
from grader.gradescope_run import run as run_autograder
from grader.gradescope_zip import HiddenVisibility, build_autograder_zip


@click.group()
def gradescope() -> None:
    """Grade on Gradescope: build the autograder zip to upload."""


@gradescope.command()
@click.option("--solutions", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="The solutions folder (master notebook and hidden tests in DIR/<assignment>/).")
@click.option("--assignment", metavar="NAME_OR_DIR",
              help="The assignment: a folder, or a name found in assignments/<name> here or above "
                   "(default: the only assignment of the solutions folder).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("autograder.zip"),
              show_default=True, help="Where to write the zip.")
@click.option("--hidden-visibility", type=click.Choice(get_args(HiddenVisibility)), default="after_published",
              show_default=True, help="When students see the hidden tests' results on Gradescope.")
@one_line_errors
def build(solutions: Path, assignment: str | None, out: Path, hidden_visibility: HiddenVisibility) -> None:
    """Write the autograder zip for Gradescope: setup.sh, run_autograder, the tests, the reference."""
    manifest = _assignment(assignment, solutions)
    entries = build_autograder_zip(manifest, find_solutions(solutions, manifest), out, hidden_visibility)
    click.echo(f"wrote {out} ({len(entries)} files) for {manifest.name}: upload it as the autograder "
               "(Configure Autograder > Zip file upload)")
    sys.exit(EXIT_OK)


@gradescope.command()
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), envvar=ROOT_VARIABLE,
              default=DEFAULT_ROOT, show_default=True,
              help=f"Gradescope's tree: source/, submission/, results/ (or ${ROOT_VARIABLE}).")
def run(root: Path) -> None:
    """Grade root/submission and write root/results/results.json (what run_autograder calls)."""
    sys.dont_write_bytecode = True  # grading writes nothing beside the tests
    sys.exit(run_autograder(root))


def _assignment(spec: str | None, solutions: Path) -> Assignment:
    """The assignment named by ``--assignment``, else the solutions folder's only one."""
    if spec is not None and Path(spec).is_dir():
        return load_assignment(Path(spec))
    if spec is None:
        names = sorted(d.name for d in solutions.iterdir() if (d / "solution.ipynb").is_file()) \
            if solutions.is_dir() else []
        if len(names) != 1:
            listed = f" ({', '.join(names)})" if names else ""
            raise InputError(f"{solutions} holds {len(names)} assignments' solutions{listed}; "
                             "pass --assignment NAME_OR_DIR")
        spec = names[0]
    found = locate_assignment(spec, Path.cwd())
    if found is None:
        raise InputError(f"assignment {spec!r} not found in assignments/{spec} here or above; "
                         "pass --assignment DIR")
    return found

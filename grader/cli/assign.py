"""``grader assign MASTER``: build the student folder of an assignment from its master notebook.

The work is :mod:`grader.student_folder` (what is built, what is refused and
where it may write); this module parses the options and reports. Exit codes:
0 built, 2 refused (bad master, leaking tests, an output folder that is not a
previous build), 3 internal error.
"""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import one_line_errors


@click.command()
@click.argument("master", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="The student folder to write (default: assignments/<name> beside the solutions/ folder "
                   "holding the master).")
@click.option("--prune", is_flag=True,
              help="Remove files in --out that the build does not write (leftovers of a previous build).")
@one_line_errors
def assign(master: Path, out: Path | None, prune: bool) -> None:
    """Build the student folder from MASTER (solutions/<name>/solution.ipynb or its folder).

    Solution regions become stubs, model answers empty answer cells, rubrics
    and outputs go; the manifest and the public tests are copied. Hidden tests
    and the master are never copied.
    """
    # Deferred on purpose: nbformat takes 0.4 s to import, and every other
    # command (grader check above all) imports this module.
    from grader.student_folder import build_student_folder, default_out, write_build

    build = build_student_folder(master)
    done = write_build(build, out if out is not None else default_out(build), prune)
    click.echo(f"{build.name}: built {done.out} from {build.master} ({len(build.files)} files: "
               f"{len(done.written)} written, {len(done.unchanged)} unchanged"
               + (f", {len(done.removed)} removed" if done.removed else "") + ")")

"""``grader export``: the gradebook's latest grades of one assignment as a CSV table."""

from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import (
    assignment_choice_option,
    choose_assignment,
    gradebook_option,
    one_line_errors,
    report_path,
)
from grader.errors import InputError
from grader.gradebook import Gradebook
from grader.reports.csv_export import Columns, columns_from_grades, write_gradebook_csv


@click.command()
@gradebook_option(required=True)
@click.option("--csv", "csv_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the table.")
@assignment_choice_option
@one_line_errors
def export(gradebook: Path, csv_path: Path, assignment: str | None) -> None:
    """Write one row per student: question scores, written scores, totals."""
    report_path(csv_path)
    with Gradebook(gradebook, create=False) as book:
        name, manifest = choose_assignment(book, assignment)
        grades = book.latest(name)
    if manifest is not None:
        columns = Columns(tuple((q.id, q.points) for q in manifest.questions),
                          tuple((w.id, w.points) for w in manifest.written))
    else:
        columns = columns_from_grades(grades)
    try:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        write_gradebook_csv(grades, csv_path, columns)
    except OSError as exc:
        raise InputError(f"cannot write {csv_path}: {exc.strerror or exc}") from None
    click.echo(f"{name}: {len(grades)} students written to {csv_path}")

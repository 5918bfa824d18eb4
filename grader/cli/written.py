"""``grader written export|import``: written answers out to people grading by hand, their scores back in."""

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
from grader.reports.review import review_items
from grader.reports.review_csv import read_review_csv, write_review_csv
from grader.reports.review_html import write_review_html
from grader.rubrics import read_rubrics
from grader.written_import import check_scores


@click.group()
def written() -> None:
    """Grade written answers by hand: export them for review, import the scores."""


@written.command("export")
@gradebook_option(required=True)
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="review.csv (to fill in scores) or review.html (to read, with rubrics).")
@assignment_choice_option
@click.option("--solutions", type=click.Path(path_type=Path, file_okay=False),
              help="The solutions folder: adds each question's rubric (cells tagged rubric:<id>) to the page.")
@one_line_errors
def export_written(gradebook: Path, out: Path, assignment: str | None, solutions: Path | None) -> None:
    """Write every student's written answers, by question, with scores entered so far."""
    kind = out.suffix.lower()
    if kind not in (".csv", ".html", ".htm"):
        raise InputError(f"--out must end in .csv or .html, not {out.name!r}")
    report_path(out)
    with Gradebook(gradebook, create=False) as book:
        name, manifest = choose_assignment(book, assignment)
        grades = book.latest(name)
        entered = book.written_scores(name)
    rubrics = {}
    if solutions is not None:
        master = solutions / name / "solution.ipynb"
        if not master.is_file():
            raise InputError(f"no master notebook for {name!r} at {master}")
        rubrics = read_rubrics(master)
    comments = {student: {q: s.comment for q, s in by_q.items()} for student, by_q in entered.items()}
    items = review_items(grades, comments, [w.id for w in manifest.written] if manifest else None)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == ".csv":
            write_review_csv(items, out)
        else:
            write_review_html(items, out, rubrics)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"{name}: {len(items)} written answers of {len(grades)} students written to {out}")


@written.command("import")
@click.argument("sheet", type=click.Path(path_type=Path, dir_okay=False))
@gradebook_option(required=True)
@one_line_errors
def import_written(sheet: Path, gradebook: Path) -> None:
    """Store the scores (and comments) filled in on SHEET, a CSV from 'grader written export'; all or none."""
    rows = read_review_csv(sheet)
    with Gradebook(gradebook, create=False) as book:
        grades = {name: book.latest(name) for name in sorted({row.assignment for row in rows})}
        checked = check_scores(rows, grades, sheet.name)
        cleared = book.set_written_many(checked.scores, checked.blank)
    blank = f"; {len(checked.blank)} left blank (not graded yet)" if checked.blank else ""
    blank += f", {cleared} entered before now cleared" if cleared else ""
    click.echo(f"imported {len(checked.scores)} written scores from {sheet}{blank}")

"""The class table and the review sheet as pure renderings of grades: columns, numbers, inert text."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from grader.errors import InputError
from grader.model import Grade, WrittenAnswer
from grader.reports.csv_cells import number_cell, read_text_cell, text_cell
from grader.reports.csv_export import Columns, columns_from_grades, gradebook_csv, gradebook_rows
from grader.reports.review import review_items
from grader.reports.review_csv import read_review_csv, review_csv, write_review_csv
from grader.reports.review_html import review_html


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'x", "''x"), ("alice", "alice"), ("", ""), ("a=b", "a=b"),
])
def test_text_cells_are_inert_and_read_back(value: str, cell: str) -> None:
    assert text_cell(value) == cell and read_text_cell(cell) == value


@pytest.mark.parametrize("value, cell", [(None, ""), (0.0, "0"), (4.0, "4"), (10 / 3, "3.333333"),
                                         (2.5, "2.5"), (-0.0, "0"), (1e-9, "0")])
def test_number_cells(value: float | None, cell: str) -> None:
    assert number_cell(value) == cell


def test_columns_from_grades_first_seen_first(full_grade: Grade, passing_grade: Grade) -> None:
    columns = columns_from_grades({"bob": passing_grade, "alice": full_grade})
    assert [q for q, _ in columns.questions] == ["q1", "q2", "q1_gradient", "q2_hessian", "q3_critical_points",
                                                 "q4_sampling"]
    assert columns.written == (("q5_explain", 2.0), ("q6_reflect", 1.0))


def test_rows_with_written_scores_and_missing_questions(full_grade: Grade) -> None:
    graded = replace(full_grade, written=(replace(full_grade.written[0], score=1.5), full_grade.written[1]))
    columns = Columns((("q1_gradient", 3.0), ("q9_new", 5.0)), (("q5_explain", 2.0), ("q6_reflect", 1.0)))
    header, row = gradebook_rows({"alice": graded}, columns)
    assert header == ["student", "q1_gradient", "q9_new", "q5_explain", "q6_reflect", "autograded", "written",
                      "total", "max", "pending"]
    assert row == ["alice", "3", "", "1.5", "", "7.333334", "1.5", "8.833334", "18", "q6_reflect"]


def test_hostile_student_and_question_ids_are_inert(hostile_grade: Grade) -> None:
    text = gradebook_csv({"=cmd|' /C calc'!A0": hostile_grade})
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_review_items_by_question_then_student(full_grade: Grade, hostile_grade: Grade) -> None:
    bob = replace(full_grade, submission="bob", written=(WrittenAnswer("q6_reflect", 1.0, "b6", 0.5),
                                                          WrittenAnswer("q5_explain", 2.0, "b5")))
    items = review_items({"bob": bob, "alice": full_grade}, {"bob": {"q6_reflect": "ok"}},
                         order=["q6_reflect", "q5_explain"])
    assert [(i.question, i.student) for i in items] == [("q6_reflect", "alice"), ("q6_reflect", "bob"),
                                                        ("q5_explain", "alice"), ("q5_explain", "bob")]
    assert (items[1].score, items[1].comment, items[1].answer) == (0.5, "ok", "b6")


def test_review_csv_reads_back_what_it_wrote(tmp_path: Path, full_grade: Grade) -> None:
    items = review_items({"-alice": full_grade})
    path = tmp_path / "review.csv"
    write_review_csv(items, path)
    rows = read_review_csv(path)
    assert [(r.row, r.student, r.question, r.score) for r in rows] == [(2, "-alice", "q5_explain", ""),
                                                                       (3, "-alice", "q6_reflect", "")]
    assert review_csv(items).splitlines()[0] == "assignment,question,points,student,score,comment,answer"


def test_review_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('assignment,question,student,score,answer\ntiny,w1,a,1,"line 1\nline 2\nline 3"\n\n'
                    "tiny,w1,b,2,x\n")
    assert [(r.row, r.student) for r in read_review_csv(path)] == [(2, "a"), (4, "b")]


def test_review_csv_with_an_unterminated_quote_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('assignment,question,student,score\ntiny,w1,"a,1\n')
    with pytest.raises(InputError, match="is not valid CSV"):
        read_review_csv(path)


def test_a_review_csv_with_two_score_columns_is_refused(tmp_path: Path) -> None:
    """The first was read without a word; a TA who added a column of their own lost it."""
    path = tmp_path / "r.csv"
    path.write_text("assignment,question,student,score,score\ntiny,w1,a,1,2\n")
    with pytest.raises(InputError, match="has 2 'score' columns: keep one"):
        read_review_csv(path)


def test_review_html_escapes_everything(hostile_grade: Grade, hostile_strings: dict[str, str]) -> None:
    page = review_html(review_items({hostile_strings["script"]: hostile_grade}),
                       {f"w_{hostile_strings['pipe']}": "<img src=x onerror=alert(1)>"})
    assert "<script>" not in page and "<img" not in page and "\x00" not in page and "\x1b" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<section") == 1

"""``grader written export|import``: the hand-grading round trip through a spreadsheet, and bad sheets refused whole."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grader.cli.main import main
from grader.gradebook import Gradebook
from grader.model import Grade
from grader.rubrics import read_rubrics

from ..conftest import REPO, TINY, TINY_SOLUTIONS
from ..tiny_grades import class_of_two, gradebook_of
from .test_check import assert_one_line_error

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    return class_of_two(tmp_path_factory.mktemp("class"))


@pytest.fixture
def book(tmp_path: Path, grades: dict[str, Grade], monkeypatch: pytest.MonkeyPatch) -> Path:
    """alice (answered w1), bob (no answer) and a student whose id is an HTML and formula attack."""
    monkeypatch.chdir(tmp_path)
    path = gradebook_of(tmp_path / "gradebook.sqlite", grades)
    with Gradebook(path) as gb:
        gb.record(f"={SCRIPT}", "tiny", "x", "suite", grades["alice"])
    return path


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    """The tiny solutions with a rubric cell for w1 in the master notebook."""
    master = json.loads((TINY_SOLUTIONS / "tiny" / "solution.ipynb").read_text())
    master["cells"].append({"cell_type": "markdown", "metadata": {"tags": ["rubric:w1"]}, "id": "rubric-w1",
                            "source": "**Rubric w1 (2 points)**\n- 1: says <why> & how\n- 1: an example"})
    folder = tmp_path / "solutions" / "tiny"
    folder.mkdir(parents=True)
    (folder / "solution.ipynb").write_text(json.dumps(master))
    return folder.parent


def written(*args: str) -> Result:
    return CliRunner().invoke(main, ["written", *args], catch_exceptions=False)


def read_sheet(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def write_sheet(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """What a spreadsheet saves (UTF-8 with a BOM, CRLF, the columns the export had)."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, columns or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def exported(book: Path, tmp_path: Path) -> list[dict[str, str]]:
    result = written("export", "--gradebook", str(book), "--out", str(tmp_path / "review.csv"))
    assert result.exit_code == 0, result.output
    return read_sheet(tmp_path / "review.csv")


def stored(book: Path) -> dict[str, dict[str, tuple[float, str]]]:
    with Gradebook(book) as gb:
        return {s: {q: (w.score, w.comment) for q, w in by_q.items()} for s, by_q in gb.written_scores("tiny").items()}


# ------------------------------------------------------------------ export


@pytest.mark.slow
def test_csv_export_lists_every_answer_by_question(book: Path, tmp_path: Path) -> None:
    rows = exported(book, tmp_path)
    assert list(rows[0]) == ["assignment", "question", "points", "student", "score", "comment", "answer"]
    assert [(r["question"], r["student"]) for r in rows] == [("w1", f"'={SCRIPT}"), ("w1", "alice"), ("w1", "bob")]
    assert rows[1]["answer"] == "Because <b>a + b</b> & more." and rows[1]["points"] == "2"
    assert rows[2]["answer"] == "" and rows[2]["score"] == ""  # bob wrote nothing: still listed, to be given 0


@pytest.mark.slow
def test_html_export_groups_by_question_with_the_rubric_escaped(book: Path, tmp_path: Path,
                                                               solutions: Path) -> None:
    result = written("export", "--gradebook", str(book), "--out", str(tmp_path / "review.html"),
                     "--solutions", str(solutions))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "<b>" not in page and "<why>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Because &lt;b&gt;a + b&lt;/b&gt; &amp; more." in page
    assert page.index("Rubric w1") < page.index("alice") < page.index("bob")
    assert "(no answer)" in page and "<h2>w1 (2 points, 3 answers)</h2>" in page


@pytest.mark.slow
def test_html_export_without_a_master_notebook_is_an_input_error(book: Path, tmp_path: Path) -> None:
    result = written("export", "--gradebook", str(book), "--out", str(tmp_path / "r.html"),
                     "--solutions", str(tmp_path))
    assert_one_line_error(result, 2, "no master notebook for 'tiny'")
    assert_one_line_error(written("export", "--gradebook", str(book), "--out", str(tmp_path / "r.txt")), 2,
                          ".csv or .html")


def test_rubrics_of_the_real_master_notebook() -> None:
    rubrics = read_rubrics(REPO / "solutions" / "optimization_intro" / "solution.ipynb")
    assert list(rubrics) == ["w1", "w2", "w3", "w4", "w5"] and all("5 分" in r for r in rubrics.values())


# ------------------------------------------------------------------ import


@pytest.mark.slow
def test_round_trip_through_a_spreadsheet(book: Path, tmp_path: Path) -> None:
    rows = exported(book, tmp_path)
    rows[0].update(score="0", comment="=not a formula")
    rows[1].update(score="1.5", comment="清楚，但没有例子")
    sheet = write_sheet(tmp_path / "filled.csv", rows)  # bob left blank: not graded yet
    result = written("import", str(sheet), "--gradebook", str(book))
    assert result.exit_code == 0, result.output
    assert "imported 2 written scores" in result.output and "1 left blank" in result.output
    assert stored(book) == {f"={SCRIPT}": {"w1": (0.0, "=not a formula")}, "alice": {"w1": (1.5, "清楚，但没有例子")}}

    again = exported(book, tmp_path)  # scores and comments come back out, so a sheet can be finished later
    assert (again[1]["score"], again[1]["comment"]) == ("1.5", "清楚，但没有例子")
    assert again[0]["comment"] == "'=not a formula"
    again[2].update(score="2")
    assert written("import", str(write_sheet(tmp_path / "more.csv", again)), "--gradebook", str(book)).exit_code == 0
    assert stored(book)["bob"] == {"w1": (2.0, "")} and stored(book)["alice"] == {"w1": (1.5, "清楚，但没有例子")}

    export = CliRunner().invoke(main, ["export", "--gradebook", str(book), "--csv", str(tmp_path / "g.csv")])
    assert export.exit_code == 0, export.output
    totals = {r["student"]: (r["written"], r["total"], r["pending"]) for r in read_sheet(tmp_path / "g.csv")}
    assert totals["alice"] == ("1.5", "11.5", "") and totals["bob"] == ("2", "7.666667", "")

    again = exported(book, tmp_path)  # a TA empties bob's score: not graded yet again (the old score was kept)
    again[2].update(score="")
    emptied = written("import", str(write_sheet(tmp_path / "emptied.csv", again)), "--gradebook", str(book))
    assert "1 left blank (not graded yet), 1 entered before now cleared" in emptied.output, emptied.output
    assert "bob" not in stored(book) and stored(book)["alice"] == {"w1": (1.5, "清楚，但没有例子")}


@pytest.mark.slow
@pytest.mark.parametrize("score, text", [
    ("2.5", "score '2.5' for w1 is not between 0 and 2"),
    ("-1", "score '-1' for w1 is not between 0 and 2"),
    ("nan", "score 'nan' for w1 is not between 0 and 2"),
    ("inf", "score 'inf' for w1 is not between 0 and 2"),
    ("two", "score 'two' is not a number"),
    ("=1+1", "score '=1+1' is not a number"),
    ("0_5", "score '0_5' is not a number"),  # float() reads it as 5
])
def test_a_bad_score_names_its_row_and_imports_nothing(book: Path, tmp_path: Path, score: str, text: str) -> None:
    rows = exported(book, tmp_path)
    rows[0]["score"] = "1"  # a good row before the bad one: not imported either
    rows[2]["score"] = score
    result = written("import", str(write_sheet(tmp_path / "bad.csv", rows)), "--gradebook", str(book))
    assert_one_line_error(result, 2, f"bad.csv row 4: {text}; nothing imported")
    assert stored(book) == {}


@pytest.mark.slow
def test_rows_that_match_no_grade_are_refused(book: Path, tmp_path: Path) -> None:
    rows = exported(book, tmp_path)
    base = dict(rows[1], score="1")
    bad = [dict(base, student="mallory"), dict(base, question="w7"), dict(base, assignment="other"), base]
    result = written("import", str(write_sheet(tmp_path / "bad.csv", [base, *bad])), "--gradebook", str(book))
    assert_one_line_error(result, 2, "bad.csv row 3: the gradebook has no grade of 'mallory' for assignment 'tiny' "
                                     "(and 3 more bad rows); nothing imported")
    for row, text in [(dict(base, question="w7"), "'w7' is not a written question of 'tiny'"),
                      (dict(base, assignment="other"), "the gradebook has no grade of 'alice' for assignment 'other'"),
                      (base, "'alice' 'w1' is already scored in row 2")]:
        result = written("import", str(write_sheet(tmp_path / "bad.csv", [base, row])), "--gradebook", str(book))
        assert_one_line_error(result, 2, f"row 3: {text}")
    assert stored(book) == {}


@pytest.mark.slow
def test_sheets_that_are_not_review_sheets(book: Path, tmp_path: Path) -> None:
    cases = {"empty.csv": b"", "binary.csv": b"\xff\xfe\x00\x81garbage",
             "nocols.csv": b"student,points\nalice,1\n"}
    texts = {"empty.csv": "is empty", "binary.csv": "UTF-8", "nocols.csv": "no 'assignment', 'question', 'score'"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert_one_line_error(written("import", str(tmp_path / name), "--gradebook", str(book)), 2, texts[name])
    assert_one_line_error(written("import", str(tmp_path / "missing.csv"), "--gradebook", str(book)), 2,
                          "cannot read")
    sheet = write_sheet(tmp_path / "ok.csv", [{"assignment": "tiny", "question": "w1", "student": "a", "score": ""}])
    assert_one_line_error(written("import", str(sheet), "--gradebook", str(tmp_path / "none.sqlite")), 2,
                          "no gradebook at")


@pytest.mark.slow
def test_minimal_sheet_and_a_real_subprocess(book: Path, tmp_path: Path) -> None:
    """Only the required columns, in another order, with a student whose id looks like a formula."""
    sheet = write_sheet(tmp_path / "mini.csv", [
        {"score": "2", "student": "bob", "question": "w1", "assignment": "tiny"},
        {"score": "0.5", "student": f"'={SCRIPT}", "question": "w1", "assignment": "tiny"},
    ])
    proc = subprocess.run([sys.executable, "-m", "grader", "written", "import", str(sheet), "--gradebook", str(book)],
                          capture_output=True, text=True, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert stored(book) == {"bob": {"w1": (2.0, "")}, f"={SCRIPT}": {"w1": (0.5, "")}}


@pytest.mark.slow
def test_manifest_order_of_written_questions(book: Path, tmp_path: Path) -> None:
    result = written("export", "--gradebook", str(book), "--out", str(tmp_path / "r.csv"), "--assignment", str(TINY))
    assert result.exit_code == 0, result.output
    assert {r["question"] for r in read_sheet(tmp_path / "r.csv")} == {"w1"}

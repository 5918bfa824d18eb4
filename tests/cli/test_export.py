"""``grader export``: the class's table from a real gradebook, in manifest order, safe to open in Excel."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from grader.cli.common import one_line_errors
from grader.cli.main import main
from grader.gradebook import Gradebook
from grader.model import Grade

from ..conftest import REPO, TINY
from ..tiny_grades import class_of_two, gradebook_of
from .test_check import assert_one_line_error

pytestmark = pytest.mark.slow  # every test here records real grades (graded once for the module)


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    return class_of_two(tmp_path_factory.mktemp("class"))


@pytest.fixture
def book(tmp_path: Path, grades: dict[str, Grade], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A gradebook with alice and bob graded; the current folder has no assignments/ to find."""
    monkeypatch.chdir(tmp_path)
    return gradebook_of(tmp_path / "gradebook.sqlite", grades)


def export(*args: str) -> Result:
    return CliRunner().invoke(main, ["export", *args], catch_exceptions=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 only with it
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def test_one_row_per_student_with_totals(book: Path, tmp_path: Path) -> None:
    result = export("--gradebook", str(book), "--csv", str(tmp_path / "out" / "grades.csv"))
    assert result.exit_code == 0, result.output
    assert "tiny: 2 students written to" in result.output
    rows = read_csv(tmp_path / "out" / "grades.csv")
    assert list(rows[0]) == ["student", "q1", "q2", "w1", "autograded", "written", "total", "max", "pending"]
    alice, bob = rows
    assert alice == {"student": "alice", "q1": "4", "q2": "6", "w1": "", "autograded": "10", "written": "0",
                     "total": "10", "max": "12", "pending": "w1"}
    assert bob["student"] == "bob" and bob["q1"] == "2.666667" and bob["q2"] == "3"
    assert bob["autograded"] == bob["total"] == "5.666667" and bob["w1"] == ""


def test_written_scores_count_in_the_totals(book: Path, tmp_path: Path) -> None:
    with Gradebook(book) as gb:
        gb.set_written("alice", "tiny", "w1", 1.5, "good")
    export("--gradebook", str(book), "--csv", str(tmp_path / "g.csv"))
    alice, bob = read_csv(tmp_path / "g.csv")
    assert (alice["w1"], alice["written"], alice["total"], alice["max"], alice["pending"]) == \
        ("1.5", "1.5", "11.5", "12", "")
    assert bob["pending"] == "w1"


def test_columns_follow_the_manifest(book: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "tiny_reordered"
    manifest.mkdir()
    (manifest / "assignment.toml").write_text(
        'name = "tiny"\n[questions.q2]\npoints = 6\n[questions.q1]\npoints = 4\n[written.w1]\npoints = 2\n')
    result = export("--gradebook", str(book), "--csv", str(tmp_path / "g.csv"), "--assignment", str(manifest))
    assert result.exit_code == 0, result.output
    assert list(read_csv(tmp_path / "g.csv")[0])[:4] == ["student", "q2", "q1", "w1"]


def test_manifest_found_by_name_under_assignments(book: Path, tmp_path: Path) -> None:
    shutil.copytree(TINY, tmp_path / "assignments" / "tiny")
    text = (tmp_path / "assignments" / "tiny" / "assignment.toml").read_text()
    (tmp_path / "assignments" / "tiny" / "assignment.toml").write_text(text + "\n[written.w9]\npoints = 3\n")
    export("--gradebook", str(book), "--csv", str(tmp_path / "g.csv"), "--assignment", "tiny")
    alice = read_csv(tmp_path / "g.csv")[0]
    assert alice["w9"] == "" and alice["max"] == "15" and alice["pending"] == "w1 w9"


def test_student_ids_cannot_inject_formulas(tmp_path: Path, grades: dict[str, Grade]) -> None:
    book = tmp_path / "gb.sqlite"
    hostile = ['=HYPERLINK("http://evil","x")', "+1+1", "-2", "@SUM(A1)", "\tTAB", "'quoted", "学生"]
    with Gradebook(book) as gb:
        for student in hostile:
            gb.record(student, "tiny", student, "s", grades["alice"])
    export("--gradebook", str(book), "--csv", str(tmp_path / "g.csv"))
    students = [row["student"] for row in read_csv(tmp_path / "g.csv")]
    assert sorted(students) == sorted(["'" + s for s in hostile[:6]] + ["学生"])
    assert not any(s.startswith(("=", "+", "-", "@", "\t")) for s in students)


def test_several_assignments_need_one_chosen(book: Path, tmp_path: Path, grades: dict[str, Grade]) -> None:
    with Gradebook(book) as gb:
        gb.record("alice", "other", "a", "s", grades["alice"])
    out = str(tmp_path / "g.csv")
    assert_one_line_error(export("--gradebook", str(book), "--csv", out), 2, "several assignments (other, tiny)")
    assert_one_line_error(export("--gradebook", str(book), "--csv", out, "--assignment", "nope"), 2,
                          "no grades for 'nope'")
    assert export("--gradebook", str(book), "--csv", out, "--assignment", "other").exit_code == 0
    assert [r["student"] for r in read_csv(Path(out))] == ["alice"]


def test_bad_gradebooks_are_one_line_errors(tmp_path: Path) -> None:
    out = str(tmp_path / "g.csv")
    assert_one_line_error(export("--gradebook", str(tmp_path / "none.sqlite"), "--csv", out), 2, "no gradebook at")
    assert not (tmp_path / "none.sqlite").exists()
    (tmp_path / "corrupt.sqlite").write_bytes(b"not a database " * 100)
    assert_one_line_error(export("--gradebook", str(tmp_path / "corrupt.sqlite"), "--csv", out), 2,
                          "is not a gradebook")
    Gradebook(tmp_path / "empty.sqlite").close()
    assert_one_line_error(export("--gradebook", str(tmp_path / "empty.sqlite"), "--csv", out), 2, "no grades yet")


def test_unwritable_output_is_a_one_line_error(book: Path, tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    assert_one_line_error(export("--gradebook", str(book), "--csv", str(tmp_path / "afile" / "g.csv")), 2,
                          "cannot write")


def test_real_subprocess(book: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "grader", "export", "--gradebook", str(book), "--csv",
                           str(tmp_path / "g.csv"), "--assignment", str(TINY)], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert [r["student"] for r in read_csv(tmp_path / "g.csv")] == ["alice", "bob"]


def test_a_gradebook_is_never_overwritten_by_a_report(book: Path, tmp_path: Path) -> None:
    """``--csv gradebook.sqlite`` replaced every grade and hand score by the CSV."""
    before = book.read_bytes()
    result = export("--gradebook", str(book), "--csv", str(book))
    assert_one_line_error(result, 2, "is a database (a gradebook?)")
    other = CliRunner().invoke(main, ["written", "export", "--gradebook", str(book), "--out", str(tmp_path / "x.csv")])
    assert other.exit_code == 0, other.output
    shutil.copy(book, tmp_path / "x.csv")  # another gradebook under a report's name
    result = CliRunner().invoke(main, ["written", "export", "--gradebook", str(book), "--out", str(tmp_path / "x.csv")])
    assert_one_line_error(result, 2, "is a database")
    assert book.read_bytes() == before


def test_a_locked_gradebook_is_a_one_line_error() -> None:
    """Another command's write lock (after SQLite's wait) or a read-only file ended in an internal error."""
    @click.command()
    @one_line_errors
    def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    result = CliRunner().invoke(locked, [])
    assert_one_line_error(result, 2, "the gradebook: database is locked (another grader command is using it?)")

"""``grader grade`` through the real command: folders, zips, bad notebooks, resuming, one student alone."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ..conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS, write_notebook

pytestmark = pytest.mark.slow

WRONG = [*TINY_CORRECT[:2], "def square(x):\n    return x + x", TINY_CORRECT[3]]
HANGS = [*TINY_CORRECT[:2], "def square(x):\n    while True:\n        pass", TINY_CORRECT[3]]


def run_grade(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "grader", "grade", *map(str, args), "--solutions", str(TINY_SOLUTIONS),
               "--assignment", str(TINY), "--no-progress", "--limit", "call_timeout=2"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def check_json(notebook: Path, out: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "grader", "check", str(notebook), "--solutions", str(TINY_SOLUTIONS),
               "--assignment", str(TINY), "--json", str(out), "--limit", "call_timeout=2"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    return dict(json.loads(out.read_text()))


def records(gradebook: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(gradebook) as db:
        return [(s, g) for s, g in db.execute("SELECT student, score FROM grades ORDER BY id")]


def write_class(subs: Path) -> Path:
    """alice (right) and bob (wrong) as notebooks, carol (hangs) in a folder, dan (not JSON)."""
    subs.mkdir()
    write_notebook(subs / "alice.ipynb", TINY_CORRECT)
    write_notebook(subs / "bob.ipynb", WRONG)
    (subs / "carol").mkdir()
    write_notebook(subs / "carol" / "assignment.ipynb", HANGS)
    (subs / "dan.ipynb").write_text("not a notebook")
    return subs


@pytest.fixture
def classroom(tmp_path: Path) -> Path:
    """The class of ``write_class`` in ``subs/``, and erin in a zip beside it."""
    write_class(tmp_path / "subs")
    erin = write_notebook(tmp_path / "nb.ipynb", TINY_CORRECT)
    with zipfile.ZipFile(tmp_path / "erin.zip", "w") as zf:
        zf.write(erin, "erin/assignment.ipynb")
    return tmp_path


def test_grades_like_check_then_resumes(classroom: Path) -> None:
    out = classroom / "out"
    first = run_grade(classroom / "subs", classroom / "erin.zip", "--out", out, "--jobs", "2")
    assert first.returncode == 1, first.stderr  # dan's notebook could not be graded
    assert "dan: not graded: dan.ipynb is not a notebook" in first.stderr
    assert "Traceback" not in first.stderr
    book = out / "gradebook.sqlite"
    scores = dict(records(book))
    assert sorted(scores) == ["alice", "bob", "carol", "dan", "erin"]
    assert scores["dan"] == 0  # a row for the LMS, saying why
    dan = json.loads((out / "grades" / "dan.json").read_text())
    assert dan["warnings"][0].startswith("not graded: dan.ipynb is not a notebook") and dan["max_score"] > 0
    assert scores["alice"] == scores["erin"] > scores["bob"] > 0
    for student in ("alice", "bob", "carol"):
        grade = json.loads((out / "grades" / f"{student}.json").read_text())
        assert grade["submission"] == student
        assert (out / "feedback" / f"{student}.html").read_text().startswith("<!DOCTYPE html>")
        results = json.loads((out / "gradescope" / student / "results.json").read_text())
        assert results["score"] == pytest.approx(grade["score"])
    # exactly what grader check says, test by test
    for student, path in (("bob", classroom / "subs" / "bob.ipynb"),
                          ("carol", classroom / "subs" / "carol" / "assignment.ipynb")):
        checked = check_json(path, classroom / f"{student}-check.json")
        graded = json.loads((out / "grades" / f"{student}.json").read_text())
        outcomes = [(t["name"], t["outcome"], t["points"]) for q in graded["questions"] for t in q["tests"]]
        assert outcomes == [(t["name"], t["outcome"], t["points"])  # type: ignore[index]
                            for q in checked["questions"] for t in q["tests"]]  # type: ignore[attr-defined]
    carol = json.loads((out / "grades" / "carol.json").read_text())
    assert any("call time limit" in t["message"] for q in carol["questions"] for t in q["tests"])

    (out / "grades" / "alice.json").unlink()
    again = run_grade(classroom / "subs", classroom / "erin.zip", "--out", out)
    assert "unchanged 5" in again.stderr, again.stderr
    assert len(records(book)) == 5  # nothing graded twice
    assert json.loads((out / "grades" / "alice.json").read_text())["score"] == scores["alice"]  # rewritten

    write_notebook(classroom / "subs" / "bob.ipynb", TINY_CORRECT)  # bob resubmits
    alone = run_grade(classroom / "subs", "--out", out, "--student", "bob")
    assert alone.returncode == 0, alone.stderr
    assert [s for s, _ in records(book)][5:] == ["bob"]
    assert records(book)[-1][1] == scores["alice"]

    forced = run_grade(classroom / "subs", "--out", out, "--student", "alice", "--regrade")
    assert forced.returncode == 0 and [s for s, _ in records(book)][6:] == ["alice"]


@pytest.mark.parametrize("arguments, message", [
    (["missing-folder"], "no such file or folder"),
    (["--student", "zed"], "no submission for student(s) zed"),
    (["--jobs", "100"], "--jobs 100 is more than twice this machine's"),
])
def test_bad_input_is_one_line(classroom: Path, arguments: list[str], message: str) -> None:
    args = [classroom / a if a == "missing-folder" else a for a in arguments]
    if args[0] in ("--student", "--jobs"):
        args = [classroom / "subs", *args]
    proc = run_grade(*args, "--out", classroom / "out")
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_an_unreadable_notebook_stops_no_one(tmp_path: Path) -> None:
    """frank's "notebook" is a folder: he is reported, not graded, not recorded; alice is graded."""
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "alice.ipynb", TINY_CORRECT)
    (subs / "frank.ipynb").mkdir()
    out = tmp_path / "out"
    first = run_grade(subs, "--out", out)
    assert first.returncode == 1, first.stderr
    assert "frank: not graded: cannot read" in first.stderr and "Traceback" not in first.stderr
    assert "graded 1, not graded 1, unchanged 0" in first.stderr
    assert [s for s, _ in records(out / "gradebook.sqlite")] == ["alice"]
    again = run_grade(subs, "--out", out)
    assert "graded 0, not graded 1, unchanged 1" in again.stderr, again.stderr


def test_a_broken_zip_or_two_notebooks_stop_no_one(tmp_path: Path) -> None:
    """One student's bad upload is reported, not graded, not recorded; before, it stopped the whole class."""
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    write_notebook(subs / "alice.ipynb", TINY_CORRECT)
    write_notebook(subs / "bob" / "assignment.ipynb", TINY_CORRECT)
    write_notebook(subs / "bob" / "assignment-copy.ipynb", WRONG)
    (tmp_path / "carol.zip").write_bytes(b"PK\x03\x04 not a zip file")
    out = tmp_path / "out"
    proc = run_grade(subs, tmp_path / "carol.zip", "--out", out)
    assert proc.returncode == 1, proc.stderr
    assert "bob: not graded: 2 notebooks" in proc.stderr and "keep one" in proc.stderr
    assert "carol: not graded: cannot unpack" in proc.stderr and "Traceback" not in proc.stderr
    assert "graded 1, not graded 2, unchanged 0" in proc.stderr
    assert [s for s, _ in records(out / "gradebook.sqlite")] == ["alice"]
    alone = run_grade(tmp_path / "carol.zip", "--out", out)
    assert alone.returncode == 2 and alone.stderr.count("\n") == 1, alone.stderr
    assert "no notebook to grade" in alone.stderr and "carol: cannot unpack" in alone.stderr


CHEAT = '''
import pathlib

def pytest_collection_modifyitems(session, config, items):
    pathlib.Path(__file__).with_name("ran-in-the-grader").touch()
    for item in items:
        item.runtest = lambda: None  # every test passes
'''


def test_tests_beside_a_students_notebook_never_run(tmp_path: Path) -> None:
    """A student folder is a copy of the assignment: its tests (a conftest.py too) used to grade the whole class."""
    subs = tmp_path / "subs"
    shutil.copytree(TINY, subs / "aaa")  # sorts first: its folder used to give the class its assignment
    (subs / "aaa" / "tests" / "conftest.py").write_text(CHEAT)
    write_notebook(subs / "aaa" / "tiny.ipynb", WRONG)
    write_notebook(subs / "zed.ipynb", WRONG)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(subs), "--solutions", str(TINY_SOLUTIONS),
                           "--out", str(out), "--no-progress"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not (subs / "aaa" / "tests" / "ran-in-the-grader").exists()
    assert dict(records(out / "gradebook.sqlite")) == {"aaa": 7.0, "zed": 7.0}
    check = subprocess.run([sys.executable, "-m", "grader", "check", str(subs / "aaa" / "tiny.ipynb"),
                            "--solutions", str(TINY_SOLUTIONS)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 1 and "Score: 7 / 10" in check.stdout, check.stdout + check.stderr
    assert not (subs / "aaa" / "tests" / "ran-in-the-grader").exists()


def test_a_notebook_that_is_a_link_is_never_read(tmp_path: Path) -> None:
    """A cloned repository's link to the reference scored full marks and showed the model answers."""
    subs = tmp_path / "subs"
    (subs / "mallory").mkdir(parents=True)
    (subs / "mallory" / "tiny.ipynb").symlink_to(TINY_SOLUTIONS / "tiny" / "solution.ipynb")
    (subs / "bob").mkdir()
    write_notebook(subs / "bob" / "tiny.ipynb", WRONG)
    (subs / "bob" / "copy.ipynb").symlink_to(subs / "bob" / "tiny.ipynb")  # beside a real one: left out
    out = tmp_path / "out"
    proc = run_grade(subs, "--out", out)
    assert proc.returncode == 1, proc.stderr
    assert "mallory: not graded:" in proc.stderr and "is a symbolic link" in proc.stderr
    assert "bob: not graded" not in proc.stderr
    assert dict(records(out / "gradebook.sqlite")) == {"bob": 7.0}
    check = subprocess.run([sys.executable, "-m", "grader", "check", str(subs / "mallory" / "tiny.ipynb"),
                            "--solutions", str(TINY_SOLUTIONS)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 2 and "is a symbolic link" in check.stderr, check.stdout + check.stderr


def test_other_limits_grade_again(tmp_path: Path) -> None:
    """A run with a wrong --limit (call_timeout=0.01) kept its grades: rerun without it, they were "unchanged"."""
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "alice.ipynb", TINY_CORRECT)
    out = tmp_path / "out"
    assert "graded 1, not graded 0, unchanged 0" in run_grade(subs, "--out", out).stderr
    assert "graded 0, not graded 0, unchanged 1" in run_grade(subs, "--out", out).stderr
    other = run_grade(subs, "--out", out, "--limit", "cell_timeout=7")
    assert "graded 1, not graded 0, unchanged 0" in other.stderr, other.stderr
    assert len(records(out / "gradebook.sqlite")) == 2


def test_an_unchanged_students_missing_files_are_written_again(tmp_path: Path) -> None:
    """Only grades/ID.json was looked at: a removed feedback page or Gradescope file never came back."""
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "alice.ipynb", TINY_CORRECT)
    out = tmp_path / "out"
    run_grade(subs, "--out", out)
    page, results = out / "feedback" / "alice.html", out / "gradescope" / "alice" / "results.json"
    before = page.read_text()
    page.unlink()
    shutil.rmtree(results.parent)
    again = run_grade(subs, "--out", out)
    assert "graded 0, not graded 0, unchanged 1" in again.stderr, again.stderr
    assert page.read_text() == before and json.loads(results.read_text())["score"] == 10
    assert not list(out.rglob("*.partial"))


def test_one_grade_at_a_time_on_a_gradebook(tmp_path: Path) -> None:
    """Two runs at once on one gradebook graded every student twice."""
    import fcntl

    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "alice.ipynb", TINY_CORRECT)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / "gradebook.sqlite.lock", "a") as lock:  # as the other run holds it
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = run_grade(subs, "--out", out)
    assert busy.returncode == 2 and busy.stderr.count("\n") == 1, busy.stderr
    assert "another grader grade is using" in busy.stderr
    assert run_grade(subs, "--out", out).returncode == 0

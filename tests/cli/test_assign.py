"""``grader assign``: building, one-line refusals, and the tiny assignment served end to end by a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grader.cli.main import main

from ..conftest import REPO, TINY, TINY_SOLUTIONS
from .test_check import assert_one_line_error


def assign(*args: str) -> Result:
    return CliRunner().invoke(main, ["assign", *args], catch_exceptions=False)


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """A copy of the tiny master folder at ``tmp_path/solutions/tiny``; returns its notebook."""
    shutil.copytree(TINY_SOLUTIONS / "tiny", tmp_path / "solutions" / "tiny")
    return tmp_path / "solutions" / "tiny" / "solution.ipynb"


def test_builds_into_assignments_beside_solutions(master: Path, tmp_path: Path) -> None:
    result = assign(str(master))
    assert result.exit_code == 0, result.output
    out = tmp_path / "assignments" / "tiny"
    assert "tiny: built" in result.output and "3 files: 3 written" in result.output
    assert {p.name for p in out.rglob("*") if p.is_file()} == {"tiny.ipynb", "assignment.toml", "test_tiny.py"}
    assert (out / "tiny.ipynb").read_bytes() == (TINY / "tiny.ipynb").read_bytes()
    again = assign(str(master), "--out", str(out))
    assert again.exit_code == 0 and "0 written, 3 unchanged" in again.output


def test_refusals_are_one_line_with_exit_2(master: Path, tmp_path: Path) -> None:
    assert_one_line_error(assign(str(tmp_path / "nope.ipynb")), 2, "no master notebook")
    assert_one_line_error(assign(str(TINY_SOLUTIONS / "tiny" / "solution.ipynb")), 2, "pass --out DIR")
    assert_one_line_error(assign(str(master), "--out", str(master.parent / "x")), 2, "overlaps the master folder")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert_one_line_error(assign(str(master), "--out", str(tmp_path / "mine")), 2, "not a previous build")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"

    nb = json.loads(master.read_text())
    nb["cells"][1]["source"] = "def add(a, b):\n    ### END SOLUTION\n"
    master.write_text(json.dumps(nb))
    assert_one_line_error(assign(str(master), "--out", str(tmp_path / "new")), 2, "cell 2 (id cell-1): unbalanced")
    assert not (tmp_path / "new").exists()


def test_prune_removes_leftovers(master: Path, tmp_path: Path) -> None:
    out = tmp_path / "student"
    assert assign(str(master), "--out", str(out)).exit_code == 0
    (out / "tests" / "test_gone.py").write_text("")
    assert_one_line_error(assign(str(master), "--out", str(out)), 2, "tests/test_gone.py")
    result = assign(str(master), "--out", str(out), "--prune")
    assert result.exit_code == 0 and "1 removed" in result.output and not (out / "tests" / "test_gone.py").exists()


@pytest.mark.slow
def test_tiny_assignment_end_to_end(master: Path, tmp_path: Path) -> None:
    """Real processes: build the student folder, the stub scores 0 with hints, the master full marks."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def grader(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path, env=env)

    built = grader("assign", "solutions/tiny/solution.ipynb")
    assert built.returncode == 0, built.stderr
    stub = grader("check", "assignments/tiny/tiny.ipynb")
    assert stub.returncode == 1, stub.stdout + stub.stderr
    assert "Score: 0 / 10" in stub.stdout and "raised NotImplementedError" in stub.stdout
    assert "Traceback" not in stub.stdout + stub.stderr
    full = grader("check", "solutions/tiny/solution.ipynb", "--solutions", "solutions", "--json", "ref.json")
    assert full.returncode == 0, full.stdout + full.stderr
    grade = json.loads((tmp_path / "ref.json").read_text())
    assert grade["score"] == grade["max_score"] == 10 and grade["hidden_tests"]

"""``run_autograder`` from the zip, run against a fake ``/autograder`` tree in a temporary folder.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
to build its image, copies ``run_autograder`` to ``/autograder/run_autograder``
and runs it per submission. Here the tree lives under ``tmp_path``
(``AUTOGRADER_ROOT``), and instead of running ``setup.sh`` (apt-get, a virtual
environment, torch from the network) the script runs with this machine's
already-installed Python (``AUTOGRADER_PYTHON``) and this checkout's grader on
``PYTHONPATH``; ``tests/cli/test_gradescope_build.py`` checks setup.sh's
syntax, its pins and the wheel it installs. Every case must leave a
results.json with Gradescope's fields and types.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.cli.main import main

from ..conftest import REPO, TINY, TINY_CORRECT, TINY_SOLUTIONS, write_notebook
from ..reports.test_gradescope import assert_valid_results
from ..tiny_grades import TINY_PARTLY_WRONG


@pytest.fixture(scope="module")
def tiny_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    result = CliRunner().invoke(main, ["gradescope", "build", "--solutions", str(TINY_SOLUTIONS), "--assignment",
                                       str(TINY), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def root(tmp_path: Path, tiny_zip: Path) -> Path:
    """A fake /autograder: source/ (the zip, modes kept), run_autograder copied up, empty submission/ and results/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tiny_zip) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, root / "source"))
            path.chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run the tree's run_autograder as Gradescope would; its process and the results.json it left."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUTOGRADER_ROOT")}
    environment.update({"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                        "PYTHONPATH": str(REPO), **env})
    proc = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True, env=environment,
                          cwd=root.parent, timeout=300)
    path = root / "results" / "results.json"
    assert path.is_file(), f"no results.json; exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    results = json.loads(path.read_text(encoding="utf-8"))
    assert_valid_results(results)
    return proc, results


def submit(root: Path, name: str, cells: Sequence[str], **kwargs: Any) -> Path:
    return write_notebook(root / "submission" / name, cells, **kwargs)


def check_json(notebook: Path, tmp_path: Path) -> dict[str, Any]:
    """What ``grader check --solutions --json`` says of the same notebook, from the repository's copy of tiny."""
    out = tmp_path / "check.json"
    CliRunner().invoke(main, ["check", str(notebook), "--assignment", str(TINY), "--solutions", str(TINY_SOLUTIONS),
                              "--json", str(out)], catch_exceptions=False)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def assert_zero(results: dict[str, Any], *texts: str) -> None:
    assert results["score"] == 0 and results["tests"] == []
    for text in texts:
        assert text in results["output"], results["output"]
    assert "/autograder" not in results["output"] and "Traceback" not in results["output"]


# ------------------------------------------------------------------ grading


@pytest.mark.slow
def test_correct_notebook_gets_full_marks(root: Path, tmp_path: Path) -> None:
    notebook = submit(root, "tiny.ipynb", TINY_CORRECT, answers={"w1": "because"})
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    expected = check_json(notebook, tmp_path)
    assert results["score"] == expected["score"] == 10
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(10)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(expected["max_score"])
    assert all(t["status"] == "passed" for t in results["tests"])
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_published"}
    assert "w1 (2 points)" in results["output"]


@pytest.mark.slow
def test_wrong_notebook_scores_as_grader_check(root: Path, tmp_path: Path) -> None:
    notebook = submit(root, "anything.ipynb", TINY_PARTLY_WRONG)
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    expected = check_json(notebook, tmp_path)
    assert 0 < results["score"] == expected["score"] < 10
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["score"] == 0 and t["output"] for t in failed)
    names = {t["name"] for q in expected["questions"] for t in q["tests"] if t["outcome"] != "passed"}
    assert len(failed) == len(names)
    hidden = [t for t in failed if t["visibility"] == "after_published"]
    assert hidden and all("assert" not in t["output"] for t in hidden)  # the hint and message, not the test's code


@pytest.mark.slow
def test_two_notebooks_the_assignments_is_graded(root: Path) -> None:
    submit(root, "tiny.ipynb", TINY_CORRECT)
    submit(root, "scratch.ipynb", ["def add(a, b):\n    return 0"])
    (root / "submission" / ".ipynb_checkpoints").mkdir()
    submit(root, ".ipynb_checkpoints/tiny-checkpoint.ipynb", ["x = 1"])
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert results["score"] == 10


@pytest.mark.slow
def test_hidden_visibility_from_the_zip(root: Path) -> None:
    config = root / "source" / "autograder.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "hidden_visibility": "hidden"}))
    submit(root, "tiny.ipynb", TINY_CORRECT)
    _, results = run_autograder(root)
    assert {t["visibility"] for t in results["tests"]} == {"visible", "hidden"}


# ------------------------------------------------------------------ submissions that cannot be graded


def test_no_notebook(root: Path) -> None:
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert_zero(results, "no Jupyter notebook", "tiny.ipynb")


def test_not_a_notebook(root: Path) -> None:
    (root / "submission" / "tiny.pdf").write_bytes(b"%PDF-1.4")
    (root / "submission" / "tiny.py").write_text("def add(a, b): return a + b")
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert_zero(results, "no Jupyter notebook", "tiny.pdf, tiny.py", "Submit your notebook tiny.ipynb")


@pytest.mark.parametrize("content, text", [
    ("%PDF-1.4 renamed", "not valid JSON"),
    ("", "is empty"),
    ('{"nbformat": 4, "nbformat_minor": 5, "cells": "x", "metadata": {}}', "not a valid notebook"),
])
def test_file_named_ipynb_that_is_not_a_notebook(root: Path, content: str, text: str) -> None:
    (root / "submission" / "tiny.ipynb").write_text(content)
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert_zero(results, "could not be graded", "tiny.ipynb", text)


def test_two_notebooks_none_the_assignments(root: Path) -> None:
    submit(root, "mine.ipynb", TINY_CORRECT)
    submit(root, "copy of mine.ipynb", TINY_CORRECT)
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert_zero(results, "2 notebooks", "copy of mine.ipynb, mine.ipynb", "Submit only your notebook tiny.ipynb")


def test_another_assignments_notebook(root: Path) -> None:
    submit(root, "tiny.ipynb", TINY_CORRECT, assignment="optimization_intro")
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert_zero(results, "belongs to the assignment 'optimization_intro'", "assignment is 'tiny'")


def test_link_to_the_reference_is_refused(root: Path) -> None:
    """A zip upload may carry a symbolic link; one to the master notebook must not earn its full marks."""
    (root / "submission" / "tiny.ipynb").symlink_to(root / "source" / "solutions" / "tiny" / "solution.ipynb")
    proc, results = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    assert_zero(results, "contains links (tiny.ipynb)")


# ------------------------------------------------------------------ the autograder itself broken


def test_broken_source_says_so(root: Path) -> None:
    (root / "source" / "solutions" / "tiny" / "solution.ipynb").unlink()
    submit(root, "tiny.ipynb", TINY_CORRECT)
    proc, results = run_autograder(root)
    assert proc.returncode == 3
    assert_zero(results, "The autograder failed", "not a problem with your notebook")
    assert "no master notebook" in proc.stderr and "solution.ipynb" not in results["output"]


def test_python_that_does_not_start(root: Path) -> None:
    (root / "results" / "results.json").write_text('{"score": 99}')  # an old file must not stand in
    submit(root, "tiny.ipynb", TINY_CORRECT)
    proc, results = run_autograder(root, AUTOGRADER_PYTHON=str(root / "no-python"))
    assert proc.returncode != 0
    assert_zero(results, "could not run", "tell the course staff")


@pytest.mark.slow
def test_grading_crash_says_so(root: Path) -> None:
    """Hidden tests that cannot be collected: the student is told it is not their fault, the exit code is 3."""
    (root / "source" / "solutions" / "tiny" / "hidden_tests" / "test_broken.py").write_text("import nope_missing\n")
    submit(root, "tiny.ipynb", TINY_CORRECT)
    proc, results = run_autograder(root)
    assert proc.returncode == 3, proc.stderr
    assert_zero(results, "The autograder failed")
    assert "could not be collected" in proc.stderr and "test_broken" not in results["output"]

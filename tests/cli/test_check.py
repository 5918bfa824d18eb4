"""``grader check``: exit codes, reports, and bad input, through click's runner and a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner, Result

from grader.cli.main import main

from ..conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS

Notebook = Callable[..., Path]


def check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def assert_one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("grader: ") and text in lines[0], result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ bad input, no worker needed


def test_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(check(str(tmp_path / "nope.ipynb")), 2, "cannot read")


@pytest.mark.parametrize("content, text", [
    ("", "is empty"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "no 'nbformat'"),
    ('{"nbformat": 5, "cells": []}', "newer than this grader reads"),
    ('{"nbformat": 4, "nbformat_minor": 5, "cells": "x", "metadata": {}}', "not a valid notebook"),
    # readable without nbformat, refused by its schema once the worker has started
    ('{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code", "source": "1"}], "metadata": {}}',
     "not a valid notebook"),
])
def test_not_a_notebook(tmp_path: Path, content: str, text: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    assert_one_line_error(check(str(path), "--assignment", str(TINY)), 2, text)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(check(str(path)), 2, "UTF-8")


def test_unknown_assignment(notebook: Notebook) -> None:
    path = notebook(TINY_CORRECT, assignment="no_such_assignment")
    assert_one_line_error(check(str(path)), 2, "'no_such_assignment' not found")


def test_no_assignment_metadata(notebook: Notebook) -> None:
    assert_one_line_error(check(str(notebook(TINY_CORRECT, assignment=None))), 2, "--assignment")


def test_bad_limit(notebook: Notebook) -> None:
    path = notebook(TINY_CORRECT)
    assert_one_line_error(check(str(path), "--assignment", str(TINY), "--limit", "memory=lots"), 2, "memory")
    assert_one_line_error(check(str(path), "--assignment", str(TINY), "--limit", "nolimit=3"), 2, "unknown limit")


def test_missing_solutions(notebook: Notebook, tmp_path: Path) -> None:
    path = notebook(TINY_CORRECT)
    assert_one_line_error(check(str(path), "--assignment", str(TINY), "--solutions", str(tmp_path)), 2,
                          "no solutions for 'tiny'")


# ------------------------------------------------------------------ real grading


@pytest.mark.slow
def test_correct_notebook_passes_with_reports(notebook: Notebook, tmp_path: Path) -> None:
    path = notebook(TINY_CORRECT, answers={"w1": "my answer"})
    out = tmp_path / "out"
    result = check(str(path), "--assignment", str(TINY), "--solutions", str(TINY_SOLUTIONS),
                   "--json", str(out / "g.json"), "--junit", str(out / "g.xml"), "--summary", str(out / "g.md"))
    assert result.exit_code == 0, result.output
    assert "Score: 10 / 10" in result.output
    grade = json.loads((out / "g.json").read_text())
    assert grade["score"] == grade["max_score"] == 10 and grade["hidden_tests"] is True
    assert [q["id"] for q in grade["questions"]] == ["q1", "q2"]
    for q in grade["questions"]:
        assert {"id", "score", "max_score", "tests"} <= q.keys()
        for t in q["tests"]:
            assert {"name", "outcome", "points", "max_points", "message"} <= t.keys()
    assert grade["cell_errors"] == [] and grade["written"][0]["text"] == "my answer"
    suites = ET.parse(out / "g.xml").getroot()
    cases = suites.findall(".//testcase")
    points = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in cases}
    graded = {n: p for n, p in points.items() if "points" in p}
    assert len(graded) == 6 and sum(float(p["points"]) for p in graded.values()) == pytest.approx(10, abs=1e-5)
    assert not suites.findall(".//failure")
    assert "10" in (out / "g.md").read_text()


@pytest.mark.slow
def test_stub_fails_with_exit_1(notebook: Notebook) -> None:
    cells = ["def add(a, b):\n    raise NotImplementedError", "def square(x):\n    raise NotImplementedError",
             "def halve(x):\n    raise NotImplementedError"]
    result = check(str(notebook(cells)), "--assignment", str(TINY))
    assert result.exit_code == 1
    assert "Score: 0 / 10" in result.output and "raised NotImplementedError" in result.output


HOSTILE = [
    "import os, sys, pickle, numpy as np, torch",
    "def add(:\n    pass",                                   # syntax error
    "raise RuntimeError('cell exploded')",                   # exception in a cell
    "while True:\n    pass",                                 # infinite loop in a cell
    "sys.exit(4)",                                           # sys.exit in a cell
    "class Rigged:\n    def __eq__(self, other):\n        return True\n"
    "def add(a, b):\n    return Rigged()",                    # rigged __eq__
    "def square(x):\n    while True:\n        pass",          # infinite loop in a function
    "def halve(x):\n    os._exit(0)",                         # os._exit in a function
]


@pytest.mark.slow
def test_hostile_notebook_gets_an_honest_grade(notebook: Notebook, tmp_path: Path) -> None:
    result = check(str(notebook(HOSTILE)), "--assignment", str(TINY), "--json", str(tmp_path / "g.json"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    grade = json.loads((tmp_path / "g.json").read_text())
    assert grade["score"] == 0
    errors = {e["cell"]: e["ename"] for e in grade["cell_errors"]}
    assert errors == {2: "SyntaxError", 3: "RuntimeError", 4: "Timeout", 5: "SystemExit"}
    messages = {t["name"].split("::")[1]: t["message"] for q in grade["questions"] for t in q["tests"]}
    assert "unsupported value of type Rigged" in messages["test_add"] or messages["test_add"].startswith("Assert")
    assert "call time limit" in messages["test_square"]
    assert "exited with status 0" in messages["test_halve"]


def graded_losing_points(path: Path, assignment: Path, tmp_path: Path,
                         *options: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``check --json`` of a notebook that loses points (exit 1, no traceback): its grade, each test's message."""
    result = check(str(path), "--assignment", str(assignment), *options, "--json", str(tmp_path / "g.json"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    grade = json.loads((tmp_path / "g.json").read_text())
    return grade, {t["name"].split("::")[1]: t["message"] for q in grade["questions"] for t in q["tests"]}


@pytest.mark.slow
def test_a_notebook_too_slow_in_all_gets_a_grade_within_the_total_time_limit(notebook: Notebook,
                                                                              tmp_path: Path) -> None:
    """Every call is within the call time limit (2 s); together they are past the total one."""
    cells = ["import time", "def add(a, b):\n    time.sleep(1)\n    return a + b",
             "def square(x):\n    return x * x", "def halve(x):\n    return x / 2"]
    grade, messages = graded_losing_points(notebook(cells), TINY, tmp_path, "--limit", "total_timeout=1.5")
    spent = "the notebook's code used up the total time limit (1.5 s)"
    assert messages == {"test_add": "",  # 1 s in
                        "test_add_floats": f"`add` did not return: {spent}",  # stopped at 1.5 s
                        "test_square": f"`square` was not called: {spent}",
                        "test_halve": f"`halve` was not called: {spent}"}
    assert grade["score"] == 2
    assert f"{spent}: what was still to run was not run, and its tests failed" in grade["warnings"]
    assert grade["timings"]["total"] < 1.5 + 1 + 10  # the time limit, the grace, the worker's start


SLOW_CHECKS = '''
import pytest


@pytest.mark.question("q1", part="add")
def test_z_add_checked_at_a_cost_the_value_decides(submission):
    total = 0
    for k in range(10 ** submission.add(5, 5)):
        total += k


@pytest.mark.question("q1", part="add")
def test_z_after_it(submission):
    assert submission.add(1, 1) == 2
'''


@pytest.mark.slow
def test_a_check_too_costly_is_stopped_and_graded_not_the_grader_held(notebook: Notebook,
                                                                      tmp_path: Path) -> None:
    """The tests' own work is limited too: a check slow on the student's value fails, the rest is not run."""
    assignment = tmp_path / "tiny"
    shutil.copytree(TINY, assignment)
    (assignment / "tests" / "test_z_slow.py").write_text(SLOW_CHECKS)
    grade, messages = graded_losing_points(notebook(TINY_CORRECT), assignment, tmp_path, "--limit", "tests_cpu_time=1")
    spent = "the tests' own work used up its CPU time (1 s in one grading)"
    assert messages == {"test_add": "", "test_add_floats": "", "test_square": "", "test_halve": "",
                        "test_z_add_checked_at_a_cost_the_value_decides": f"stopped: {spent}",
                        "test_z_after_it": f"not run: {spent}"}
    assert f"{spent}: the test running then was stopped and the rest were not run" in grade["warnings"]
    assert grade["timings"]["tests"] < 10


@pytest.mark.slow
def test_object_array_and_pickle_results_score_nothing(notebook: Notebook, tmp_path: Path) -> None:
    cells = ["import pickle, numpy as np, torch",
             "def add(a, b):\n    return pickle.dumps(a + b)",
             "def square(x):\n    return np.array([x], dtype=object)",
             "def halve(x):\n    return x / 2"]
    result = check(str(notebook(cells)), "--assignment", str(TINY), "--json", str(tmp_path / "g.json"))
    assert result.exit_code == 1
    grade = json.loads((tmp_path / "g.json").read_text())
    assert {q["id"]: q["score"] for q in grade["questions"]} == {"q1": 0, "q2": 3}


@pytest.mark.slow
def test_old_nbformat_is_upgraded_and_graded(tmp_path: Path) -> None:
    v3 = nbformat.v3.new_notebook()
    v3.worksheets = [nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell(input=s) for s in TINY_CORRECT])]
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.v3.writes_json(v3))
    result = check(str(path), "--assignment", str(TINY))
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_empty_notebook_gets_a_grade(tmp_path: Path, notebook: Notebook) -> None:
    result = check(str(notebook([])), "--assignment", str(TINY))
    assert result.exit_code == 1 and "does not define a function" in result.output


@pytest.mark.slow
def test_real_subprocess(notebook: Notebook) -> None:
    path = notebook(TINY_CORRECT)
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(path), "--assignment", str(TINY)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Score: 10 / 10" in proc.stdout and "only the public tests ran" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("after", [0.0, 5.0], ids=["starting", "running-cells"])
def test_a_killed_check_stops_its_worker_and_leaves_nothing_behind(tmp_path: Path, notebook: Notebook,
                                                                   after: float) -> None:
    """SIGTERM (a CI job's time-out) unwinds like Ctrl-C; before, the worker's folder and control groups stayed."""
    path = notebook(["import time\ntime.sleep(60)", *TINY_CORRECT])
    temp = tmp_path / "temp"
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", str(path), "--assignment", str(TINY),
                             "--limit", "cell_timeout=60"],  # the tiny assignment's 3 s would end the cell first
                            env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not list(temp.glob("grader-worker-*/work/worker-start.log")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the worker is starting
    assert list(temp.glob("grader-worker-*")), "no worker started"
    time.sleep(after)
    groups = list(Path("/sys/fs/cgroup").rglob(f"grader-worker-{proc.pid}-*"))  # this check's worker's
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and err.strip() == "grader: interrupted", (proc.returncode, out, err)
    assert list(temp.iterdir()) == []
    assert not [group for group in groups if group.exists()]


@pytest.mark.slow
def test_what_a_check_killed_outright_leaves_the_next_check_removes(tmp_path: Path, notebook: Notebook) -> None:
    """SIGKILL (the OOM killer, ``kill -9``) cannot unwind; the next command clears the worker's folder and groups."""
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", str(notebook(["import time\ntime.sleep(60)"])),
                             "--assignment", str(TINY), "--limit", "cell_timeout=60"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(temp.glob("grader-worker-*/work/worker-start.log")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the worker has joined its groups
    proc.kill()
    proc.wait()
    folders = list(temp.glob("grader-worker-*"))
    groups = list(Path("/sys/fs/cgroup").rglob(f"grader-worker-{proc.pid}-*"))
    assert folders, "the killed check left no folder: nothing to test"
    done = subprocess.run([sys.executable, "-m", "grader", "check", str(notebook(TINY_CORRECT)),
                           "--assignment", str(TINY)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(temp.iterdir()) == []
    assert not [group for group in groups if group.exists()]


@pytest.mark.slow
def test_quick_start_checks(tmp_path: Path) -> None:
    """The README's quick start: the reference passes with the hidden tests, the shipped stub fails."""
    repo = TINY.parents[2]
    solution = subprocess.run(
        [sys.executable, "-m", "grader", "check", "solutions/optimization_intro/solution.ipynb",
         "--solutions", "solutions", "--json", str(tmp_path / "ref.json")],
        capture_output=True, text=True, timeout=300, cwd=repo)
    assert solution.returncode == 0, solution.stdout[-2000:] + solution.stderr
    grade = json.loads((tmp_path / "ref.json").read_text())
    assert grade["score"] == grade["max_score"] > 0 and grade["hidden_tests"]
    stub = subprocess.run(
        [sys.executable, "-m", "grader", "check", "assignments/optimization_intro/assignment.ipynb"],
        capture_output=True, text=True, timeout=300, cwd=repo)
    assert stub.returncode == 1 and "Score: 0 /" in stub.stdout and "Traceback" not in stub.stdout + stub.stderr


def test_another_assignments_notebook_is_refused(notebook: Notebook) -> None:
    """Given the tiny assignment's folder, a notebook of another assignment was graded against it, with no word."""
    result = check(str(notebook(TINY_CORRECT, assignment="optimization_intro")), "--assignment", str(TINY))
    assert_one_line_error(result, 2, "is a notebook of assignment 'optimization_intro', not of 'tiny'")

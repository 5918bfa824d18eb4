"""``grader grade`` stopped halfway and run again: nothing graded twice, nothing lost; the progress bar."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS, write_notebook

pytestmark = pytest.mark.slow

STUDENTS = [f"s{i}" for i in range(4)]


def command(subs: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(subs), "--solutions", str(TINY_SOLUTIONS),
            "--assignment", str(TINY), "--out", str(out), "--jobs", "1", *extra]


def rows(out: Path) -> list[str]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return [s for (s,) in db.execute("SELECT student FROM grades ORDER BY id")]


@pytest.fixture
def classroom(tmp_path: Path) -> Path:
    (tmp_path / "subs").mkdir()
    for student in STUDENTS:
        write_notebook(tmp_path / "subs" / f"{student}.ipynb", TINY_CORRECT)
    return tmp_path


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_stopped_after_the_first_grade_then_resumed(classroom: Path, stop: signal.Signals) -> None:
    out = classroom / "out"
    proc = subprocess.Popen(command(classroom / "subs", out, "--no-progress"), stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # "s0: 10/10" once the first grade is recorded
    assert first.startswith("s0: "), first
    proc.send_signal(stop)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, first + rest
    assert "Traceback" not in rest
    recorded = rows(out)
    assert 1 <= len(recorded) < len(STUDENTS), (first, rest)  # stopped halfway, the first grade kept

    again = subprocess.run(command(classroom / "subs", out, "--no-progress"), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"graded {len(STUDENTS) - len(recorded)}, not graded 0, unchanged {len(recorded)}" in again.stderr
    assert sorted(rows(out)) == STUDENTS  # each student exactly once: none lost, none graded twice


def test_the_progress_bar_shows_done_total_and_failures(classroom: Path) -> None:
    write_notebook(classroom / "subs" / "s3.ipynb", [*TINY_CORRECT[:2], "def square(x):\n    return x + x",
                                                    TINY_CORRECT[3]])
    main, child = pty.openpty()
    proc = subprocess.Popen(command(classroom / "subs", classroom / "out"), stdin=child, stdout=child, stderr=child,
                            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(child)
    screen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if select.select([main], [], [], 1)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the command closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    os.close(main)
    assert proc.wait(timeout=60) == 0
    text = screen.decode(errors="replace")
    assert "grading" in text and "4/4" in text, text[-2000:]
    assert "1 below full marks, 0 errors" in text, text[-2000:]
    assert "s0: 5/5" not in text  # a bar on a terminal, not one line per student

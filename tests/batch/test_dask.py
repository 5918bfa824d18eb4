"""``grader grade --dask``: the real command on a real ``LocalCluster`` grades as the local pool does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
from distributed import Client, LocalCluster

from grader.cluster import run_dask
from grader.slots import Outcome, Task

from ..conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS, write_notebook
from .test_grade_command import HANGS, records, run_grade, write_class

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local cluster like a real one: two worker processes under nannies (daemonic), one thread each.

    ``:0``: the scheduler's HTTP server on a free port, not 8787, which another cluster may hold.
    """
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def classroom(tmp_path: Path) -> Path:
    return write_class(tmp_path / "subs")


def slot_processes(address: str) -> list[int]:
    """How many processes each Dask worker has started (slots, zygotes, workers)."""
    with Client(address, set_as_default=False) as client:
        counts = client.run(lambda: len(psutil.Process().children(recursive=True)))
    return sorted(counts.values())


def outcomes_of(grade_json: Path) -> list[tuple[str, str, float]]:
    grade = json.loads(grade_json.read_text())
    return [(t["name"], t["outcome"], t["points"]) for q in grade["questions"] for t in q["tests"]]


def test_grades_as_the_local_pool_does(classroom: Path, tmp_path: Path, scheduler: str) -> None:
    with ThreadPoolExecutor(2) as both:  # at once: the test takes one run's time, not two
        local_run = both.submit(run_grade, classroom, "--out", tmp_path / "local", "--jobs", "2")
        remote_run = both.submit(run_grade, classroom, "--out", tmp_path / "dask", "--dask", scheduler)
        local, remote = local_run.result(), remote_run.result()
    for proc in (local, remote):
        assert proc.returncode == 1, proc.stderr  # dan's notebook could not be graded
        assert "Traceback" not in proc.stderr
    not_graded = [line for line in remote.stderr.splitlines() if "not graded:" in line]
    assert not_graded == [line for line in local.stderr.splitlines() if "not graded:" in line]
    assert len(not_graded) == 1 and not_graded[0].startswith("dan: not graded: dan.ipynb is not a notebook")
    scores = dict(records(tmp_path / "dask" / "gradebook.sqlite"))
    assert scores == dict(records(tmp_path / "local" / "gradebook.sqlite"))
    assert sorted(scores) == ["alice", "bob", "carol", "dan"] and scores["alice"] > scores["bob"] > scores["dan"] == 0
    for student in scores:
        assert outcomes_of(tmp_path / "dask" / "grades" / f"{student}.json") == \
            outcomes_of(tmp_path / "local" / "grades" / f"{student}.json")
        assert (tmp_path / "dask" / "feedback" / f"{student}.html").read_text().startswith("<!DOCTYPE html>")
    assert slot_processes(scheduler) == [0, 0]  # the run stopped its slots


def test_a_slot_that_dies_is_retried_once_then_reported(tmp_path: Path, scheduler: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    submitted: list[str] = []  # the student of every Dask task the run submits
    submit = Client.submit

    def counted(self: Client, function: Any, plugin: str, task: Task, *args: Any, **kwargs: Any) -> Any:
        submitted.append(task.student)
        return submit(self, function, plugin, task, *args, **kwargs)

    monkeypatch.setattr(Client, "submit", counted)
    content = write_notebook(tmp_path / "alice.ipynb", TINY_CORRECT).read_bytes()
    tasks = [Task("alice", "alice.ipynb", content, str(TINY), str(TINY_SOLUTIONS), {"call_timeout": "2"}),
             # a name no slot can write kills the slot (never a student's doing): the case of a dying slot
             Task("zed", "no/such/folder.ipynb", content, str(TINY), str(TINY_SOLUTIONS))]
    outcomes: list[Outcome] = []
    threads: set[int] = set()

    def collect(outcome: Outcome) -> None:
        threads.add(threading.get_ident())
        outcomes.append(outcome)

    run_dask(tasks, scheduler, collect)
    assert threads == {threading.get_ident()}
    by_student = {o.student: o for o in outcomes}
    assert sorted(by_student) == ["alice", "zed"] and len(outcomes) == 2
    assert by_student["zed"].grade is None
    assert by_student["zed"].error.startswith("the grading slot died (exit code 1)"), by_student["zed"].error
    alice = by_student["alice"].grade
    assert alice is not None and alice["score"] == alice["max_score"] > 0
    assert sorted(submitted) == ["alice", "zed", "zed"]  # zed's task ran twice: once, then its one retry
    assert slot_processes(scheduler) == [0, 0]


def test_ctrl_c_cancels_and_records_only_whole_grades(tmp_path: Path, scheduler: str) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "a0.ipynb", TINY_CORRECT)
    for i in range(1, 9):
        write_notebook(subs / f"h{i}.ipynb", HANGS)  # each takes seconds: the interrupt finds them grading
    command = [sys.executable, "-m", "grader", "grade", str(subs), "--solutions", str(TINY_SOLUTIONS),
               "--assignment", str(TINY), "--no-progress", "--limit", "call_timeout=2", "--out", str(tmp_path / "out"),
               "--dask", scheduler]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = [proc.stderr.readline()]  # the first grade
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    lines += rest.splitlines()
    assert proc.returncode == 130, lines
    assert lines[-1].strip() == "grader: interrupted" and not any("Traceback" in line for line in lines), lines
    reported = {line.partition(":")[0] for line in lines if "/10" in line}
    recorded = dict(records(tmp_path / "out" / "gradebook.sqlite"))
    assert set(recorded) == reported and 1 <= len(recorded) < 9
    assert slot_processes(scheduler) == [0, 0]  # the slots grading were stopped


@pytest.mark.parametrize("arguments, message", [
    (["--dask", "tcp://127.0.0.1:1"], "grader: cannot reach the Dask scheduler at tcp://127.0.0.1:1: "),
    (["--dask", "no such address"], "grader: cannot reach the Dask scheduler at no such address: "),
    (["--dask", "tcp://127.0.0.1:1", "--jobs", "2"], "grader: --jobs is for the local pool"),
])
def test_bad_address_is_one_line(classroom: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    command = [sys.executable, "-m", "grader", "grade", str(classroom), "--solutions", str(TINY_SOLUTIONS),
               "--assignment", str(TINY), "--no-progress", "--out", str(tmp_path / "out"), *arguments]
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(message) and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    book = tmp_path / "out" / "gradebook.sqlite"
    assert not book.exists() or records(book) == []


def test_without_distributed_the_option_says_what_to_install(classroom: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from grader.cli.main import main

    monkeypatch.delitem(sys.modules, "grader.cluster")
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails as if not installed
    result = CliRunner().invoke(main, ["grade", str(classroom), "--solutions", str(TINY_SOLUTIONS),
                                       "--dask", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert result.output == "grader: --dask needs Dask's distributed package: pip install 'grader[dask]'\n"

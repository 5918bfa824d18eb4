"""Slots: tasks taken as slots free up (a class is not read into memory first); tasks refused when a slot's tests
or grader differ from the command's; a slot that dies replaced, its task retried once; the command's grader
imported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from grader import slots
from grader.assignment import find_solutions, load_assignment
from grader.digests import digest_code, digest_suite, suite_paths
from grader.slots import Outcome, Task, TaskQueue, grade_task, run_local

from ..conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS, write_notebook


def task(student: str) -> Task:
    return Task(student, "notebook.ipynb", b"", None, "solutions")


def test_queue_reads_nothing_ahead_and_puts_retries_first() -> None:
    taken: list[str] = []

    def tasks() -> Iterator[Task]:
        for student in ("a", "b", "c"):
            taken.append(student)
            yield task(student)

    queue = TaskQueue(tasks())
    assert taken == []
    assert queue and taken == ["a"]
    assert queue and taken == ["a"]  # asking again reads nothing more
    assert queue.pop().student == "a"
    queue.retry(task("a"))
    assert queue and queue.pop().student == "a" and taken == ["a"]
    assert [queue.pop().student for _ in range(2) if queue] == ["b", "c"]
    assert not queue


@pytest.mark.slow
def test_one_slot_reads_each_notebook_only_when_it_is_free(tmp_path: Path) -> None:
    content = write_notebook(tmp_path / "nb.ipynb", TINY_CORRECT).read_bytes()
    read: list[str] = []

    def tasks() -> Iterator[Task]:
        for student in ("s0", "s1", "s2"):
            read.append(student)
            yield Task(student, "nb.ipynb", content, str(TINY), str(TINY_SOLUTIONS), {"call_timeout": 2})

    seen: list[tuple[str, int, bool]] = []

    def on_outcome(outcome: Outcome) -> None:
        seen.append((outcome.student, len(read), outcome.grade is not None and outcome.grade["score"] == 10))

    run_local(tasks(), 1, on_outcome)
    assert seen == [("s0", 1, True), ("s1", 2, True), ("s2", 3, True)]


@pytest.mark.slow
def test_a_slot_grades_only_with_the_tests_and_code_the_command_started_with(tmp_path: Path) -> None:
    content = write_notebook(tmp_path / "nb.ipynb", TINY_CORRECT).read_bytes()
    manifest = load_assignment(TINY)
    suite, code = digest_suite(suite_paths(manifest, find_solutions(TINY_SOLUTIONS, manifest))), digest_code()
    same = Task("s", "nb.ipynb", content, str(TINY), str(TINY_SOLUTIONS), {"call_timeout": 2}, suite, code)
    graded = grade_task(same, code=code)
    assert graded.error == "" and graded.grade is not None and graded.grade["score"] == 10

    edited = grade_task(replace(same, suite="0" * 64), code=code)
    assert edited.grade is None and not edited.unreadable
    assert edited.error.startswith(f"the tests or reference under {TINY_SOLUTIONS} are not the ones")

    other = grade_task(same, code="f" * 64)
    assert other.grade is None and "grader is not the command's" in other.error


@pytest.mark.slow
def test_a_slot_imports_the_commands_grader_not_one_in_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot starts with the command's import path, as multiprocessing's spawn gives a child: a ``python -c``
    interpreter would put the working folder first, and a ``grader`` package there would be imported instead."""
    content = write_notebook(tmp_path / "nb.ipynb", TINY_CORRECT).read_bytes()
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "__init__.py").write_text("raise ImportError('the working folder shadows the grader')\n")
    monkeypatch.chdir(tmp_path)
    outcomes: list[Outcome] = []
    run_local([Task("s0", "nb.ipynb", content, str(TINY), str(TINY_SOLUTIONS), {"call_timeout": 2})], 1,
              outcomes.append)
    assert [(o.student, o.error, o.grade is not None and o.grade["score"]) for o in outcomes] == [("s0", "", 10)]


@pytest.mark.slow
def test_a_slot_that_dies_is_replaced_and_its_task_retried_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[slots.Slot] = []

    class Counted(slots.Slot):
        def __init__(self) -> None:
            super().__init__()
            started.append(self)

    monkeypatch.setattr(slots, "Slot", Counted)
    content = write_notebook(tmp_path / "nb.ipynb", TINY_CORRECT).read_bytes()
    tasks = [Task("alice", "nb.ipynb", content, str(TINY), str(TINY_SOLUTIONS), {"call_timeout": 2}),
             # a name no slot can write kills the slot (never a student's doing): the case of a dying slot
             Task("zed", "no/such/folder.ipynb", content, str(TINY), str(TINY_SOLUTIONS)),
             Task("bob", "nb.ipynb", content, str(TINY), str(TINY_SOLUTIONS), {"call_timeout": 2})]
    outcomes: list[Outcome] = []
    run_local(tasks, 1, outcomes.append)
    assert [(o.student, o.grade is not None and o.grade["score"]) for o in outcomes] == [
        ("alice", 10), ("zed", False), ("bob", 10)]
    assert outcomes[1].error == "the grading slot died (exit code 1)"
    assert len(started) == 3  # the first slot died with zed's task, its retry killed the second, bob had a third
    assert all(slot.exit_code is not None for slot in started)  # none left running

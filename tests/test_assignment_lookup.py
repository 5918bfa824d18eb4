"""Finding a notebook's assignment: beside it for a student's own check, only where the instructor put it otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.assignment import find_assignment, find_solutions, solution_names
from grader.errors import InputError

from .conftest import TINY, TINY_SOLUTIONS


def student_folder(tmp_path: Path) -> Path:
    """A student's copy of the tiny assignment (manifest and public tests), with their notebook."""
    folder = tmp_path / "alice"
    shutil.copytree(TINY, folder)
    return folder / "tiny.ipynb"


def test_a_students_own_check_uses_the_assignment_beside_the_notebook(tmp_path: Path) -> None:
    notebook = student_folder(tmp_path)
    assert find_assignment(notebook, None, "tiny").root == notebook.parent
    assert find_assignment(notebook, None, None).root == notebook.parent


def test_with_the_solutions_the_folder_beside_the_notebook_is_never_used(tmp_path: Path) -> None:
    """Its tests, a conftest.py included, would run in the grader beside the hidden tests and the reference."""
    notebook = student_folder(tmp_path)
    assert find_assignment(notebook, None, "tiny", TINY_SOLUTIONS).root == TINY_SOLUTIONS / "tiny"
    with pytest.raises(InputError, match="does not say which assignment"):
        find_assignment(notebook, None, None, TINY_SOLUTIONS)
    assert find_assignment(notebook, str(TINY), "tiny", TINY_SOLUTIONS).root == TINY  # the instructor's choice


@pytest.mark.parametrize("name", ["../../tmp/fake", "/tmp/fake", "tiny/../../fake", ".hidden", "..", "a" * 101])
def test_a_declared_name_is_a_folder_name_never_a_path(tmp_path: Path, name: str) -> None:
    notebook = student_folder(tmp_path)
    for solutions in (None, TINY_SOLUTIONS):
        with pytest.raises(InputError, match="not an assignment's name"):
            find_assignment(notebook, None, name, solutions)


def test_solution_names_are_the_folders_with_a_master(tmp_path: Path) -> None:
    assert solution_names(TINY_SOLUTIONS) == ["tiny"]
    (tmp_path / "week2").mkdir()
    (tmp_path / "week2" / "solution.ipynb").write_text("{}")
    (tmp_path / "notes").mkdir()
    assert solution_names(tmp_path) == ["week2"]
    assert solution_names(tmp_path / "absent") == []


def test_solutions_without_hidden_tests_are_refused(tmp_path: Path) -> None:
    """A misnamed hidden-tests folder graded with the public tests alone: 100/100 and not a word."""
    solutions = tmp_path / "solutions"
    shutil.copytree(TINY_SOLUTIONS / "tiny", solutions / "tiny")
    assignment = find_assignment(student_folder(tmp_path), None, "tiny", solutions)
    assert find_solutions(solutions, assignment).hidden_tests.is_dir()
    (solutions / "tiny" / "hidden_tests").rename(solutions / "tiny" / "hidden-tests")
    with pytest.raises(InputError, match="no hidden tests at"):
        find_solutions(solutions, assignment)

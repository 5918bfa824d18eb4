"""Building the student notebook from the master."""

from __future__ import annotations

import nbformat
import pytest

from grader.authoring import ANSWER_PROMPT, RegionError, strip_solutions, student_notebook

from .conftest import REPO

MASTER = REPO / "solutions" / "optimization_intro" / "solution.ipynb"
STUDENT = REPO / "assignments" / "optimization_intro" / "assignment.ipynb"


def test_region_becomes_a_stub_at_its_indentation() -> None:
    source = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    y = x\n    return y\n    ### END SOLUTION\n"
    assert strip_solutions(source) == "def f(x):\n    '''doc'''\n    raise NotImplementedError"


def test_code_outside_regions_is_kept() -> None:
    assert strip_solutions("import torch\nx = 1") == "import torch\nx = 1"


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_regions_are_refused(source: str) -> None:
    with pytest.raises(RegionError):
        strip_solutions(source)


def test_shipped_student_notebook_is_the_master_stripped() -> None:
    """The student notebook in assignments/ is exactly what the master produces."""
    master = nbformat.read(MASTER, as_version=4)
    assert nbformat.writes(student_notebook(master)) + "\n" == STUDENT.read_text()


def test_student_notebook_hides_solutions_answers_and_rubrics() -> None:
    student = nbformat.read(STUDENT, as_version=4)
    text = STUDENT.read_text()
    assert "BEGIN SOLUTION" not in text and "rubric:" not in text
    answers = [c for c in student.cells if any(t.startswith("answer:") for t in c.metadata.get("tags", []))]
    assert sorted(t for c in answers for t in c.metadata["tags"]) == [f"answer:w{i}" for i in range(1, 6)]
    assert all(c.source == ANSWER_PROMPT for c in answers)
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    assert student.metadata["grader"]["assignment"] == "optimization_intro"

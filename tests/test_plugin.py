"""The grading plugin: points split, message policy, seeds; black box through pytester."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from grader.assignment import Question
from grader.plugin import QuestionMark, seed_for, split_points

from .conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS


def mark(question: str, part: str) -> QuestionMark:
    return QuestionMark(question, part, "")


def test_points_split_over_parts_then_tests() -> None:
    marks = {"a1": mark("q1", "f"), "a2": mark("q1", "f"), "a3": mark("q1", "f"), "b1": mark("q1", "g"),
             "c1": mark("q2", "h")}
    shares = split_points([Question("q1", 10), Question("q2", 3)], marks)
    assert shares == {"a1": Fraction(5, 3), "a2": Fraction(5, 3), "a3": Fraction(5, 3), "b1": 5, "c1": 3}
    assert sum(shares.values()) == 13


def test_unknown_question_is_worth_nothing() -> None:
    assert split_points([Question("q1", 10)], {"x": mark("q9", "f")}) == {"x": 0}


def test_seed_is_stable_and_differs_between_tests() -> None:
    assert seed_for("tests/test_a.py::test_x") == seed_for("tests/test_a.py::test_x")
    assert seed_for("tests/test_a.py::test_x") != seed_for("tests/test_a.py::test_y")
    assert 0 <= seed_for("anything") < 2**63


# ------------------------------------------------------------------ black box



def run_plugin(pytester: pytest.Pytester, notebook: Path, tests: Path, *extra: str) -> tuple[pytest.RunResult, dict]:
    out = pytester.path / "grade.json"
    result = pytester.runpytest_inprocess(
        "-p", "grader.standalone", "--grader-notebook", str(notebook), "--grader-assignment", str(TINY),
        "--grader-json", str(out), "-p", "no:cacheprovider", str(tests), *extra,
    )
    return result, json.loads(out.read_text()) if out.exists() else {}


def scores(grade: dict) -> dict[str, float]:
    return {q["id"]: q["score"] for q in grade["questions"]}


@pytest.mark.slow
def test_correct_notebook_scores_full_marks(pytester: pytest.Pytester, notebook: Callable[..., Path]) -> None:
    result, grade = run_plugin(pytester, notebook(TINY_CORRECT), TINY / "tests")
    result.assert_outcomes(passed=4)
    assert scores(grade) == {"q1": 4, "q2": 6}
    assert grade["score"] == grade["max_score"] == 10


@pytest.mark.slow
def test_one_wrong_function_loses_only_its_share(pytester: pytest.Pytester, notebook: Callable[..., Path]) -> None:
    cells = [*TINY_CORRECT[:2], "def square(x):\n    return x + x", TINY_CORRECT[3]]
    result, grade = run_plugin(pytester, notebook(cells), TINY / "tests")
    result.assert_outcomes(passed=3, failed=1)
    assert scores(grade) == {"q1": 4, "q2": 3}
    failed = [t for q in grade["questions"] for t in q["tests"] if t["outcome"] != "passed"]
    assert [t["hint"] for t in failed] == ["square(x) = x * x, elementwise"]
    assert "wrong at 3 of 3 entries" in failed[0]["message"]


@pytest.mark.slow
def test_hidden_failures_show_the_hint_not_the_assertion(pytester: pytest.Pytester,
                                                         notebook: Callable[..., Path]) -> None:
    cells = ["def add(a, b):\n    return a + b + 1000", *TINY_CORRECT[2:]]
    hidden = TINY_SOLUTIONS / "tiny" / "hidden_tests"
    result, grade = run_plugin(pytester, notebook(cells), hidden, "--grader-solutions", str(TINY_SOLUTIONS))
    result.assert_outcomes(passed=1, failed=1)
    (test,) = [t for t in grade["questions"][0]["tests"] if t["outcome"] == "failed"]
    assert test["visibility"] == "hidden"
    assert test["hint"] == "add must handle negative numbers"
    assert "996" not in test["message"] and "-4" not in test["message"]
    assert test["message"] == "a hidden test failed"


@pytest.mark.slow
def test_unmarked_tests_and_docstring_hints(pytester: pytest.Pytester, notebook: Callable[..., Path]) -> None:
    pytester.makepyfile(test_extra='''
import pytest

def test_unmarked(submission):
    assert submission.add(1, 1) == 2

@pytest.mark.question("q1", part="add")
def test_doc(submission):
    """add(1, 2) should be 3"""
    assert submission.add(1, 2) == 4
''')
    result, grade = run_plugin(pytester, notebook(TINY_CORRECT), pytester.path / "test_extra.py")
    result.assert_outcomes(passed=1, failed=1)
    (test,) = grade["questions"][0]["tests"]
    assert test["hint"] == "add(1, 2) should be 3" and test["points"] == 0 and test["max_points"] == 4
    assert test["message"].startswith("AssertionError: assert 3 == 4")  # public: the assertion is shown
    assert any("without a question marker" in w for w in grade["warnings"])


def test_bad_notebook_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    result = pytester.runpytest_inprocess("-p", "grader.standalone", "--grader-notebook", str(bad))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "not valid JSON" in result.stderr.str()

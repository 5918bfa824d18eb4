"""Gradescope's results.json: the documented fields and types, scores that add up, hidden tests that stay hidden."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grader.model import Grade
from grader.reports.gradescope import gradescope_results, write_gradescope

from ..tiny_grades import TINY_PARTLY_WRONG, grade_tiny

# The fields of https://gradescope-autograders.readthedocs.io/en/latest/specs/ and their types.
NUMBER = (int, float)
OUTPUT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_LEVEL: dict[str, Any] = {
    "score": NUMBER, "execution_time": NUMBER, "output": str, "output_format": OUTPUT_FORMATS,
    "test_output_format": OUTPUT_FORMATS, "test_name_format": OUTPUT_FORMATS, "visibility": VISIBILITIES,
    "stdout_visibility": VISIBILITIES, "extra_data": dict, "tests": list, "leaderboard": list,
}
TEST: dict[str, Any] = {
    "score": NUMBER, "max_score": NUMBER, "status": {"passed", "failed"}, "name": str, "name_format": OUTPUT_FORMATS,
    "number": str, "output": str, "output_format": OUTPUT_FORMATS, "tags": list, "visibility": VISIBILITIES,
    "extra_data": dict,
}


def _check_fields(data: dict[str, Any], spec: dict[str, Any], where: str) -> None:
    for key, value in data.items():
        assert key in spec, f"{where}: {key!r} is not a Gradescope field"
        kind = spec[key]
        if isinstance(kind, set):
            assert value in kind, f"{where}.{key} = {value!r} is not one of {sorted(kind)}"
        else:
            assert isinstance(value, kind) and not isinstance(value, bool), f"{where}.{key} has type {type(value)}"


def assert_valid_results(results: dict[str, Any]) -> None:
    """Check ``results`` against Gradescope's field list, and that it is JSON."""
    assert json.loads(json.dumps(results)) == results
    _check_fields(results, TOP_LEVEL, "results")
    assert "score" in results
    for i, test in enumerate(results["tests"]):
        _check_fields(test, TEST, f"tests[{i}]")
        assert {"name", "number", "score", "max_score", "status", "output", "visibility"} <= test.keys()
        assert 0 <= test["score"] <= test["max_score"]
    numbers = [t["number"] for t in results["tests"]]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("name", ["full_grade", "passing_grade", "hostile_grade"])
def test_valid_for_every_kind_of_grade(name: str, request: pytest.FixtureRequest) -> None:
    grade: Grade = request.getfixturevalue(name)
    results = gradescope_results(grade)
    assert_valid_results(results)
    assert results["score"] == grade.score
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(grade.score, abs=1e-5)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(grade.max_score, abs=1e-5)
    assert len(results["tests"]) == len(grade.tests)


def test_tests_are_numbered_and_named_by_question(full_grade: Grade) -> None:
    tests = gradescope_results(full_grade)["tests"]
    assert [t["number"] for t in tests[:3]] == ["1.1", "1.2", "2.1"]
    assert tests[0]["name"] == "q1_gradient: test_gradient_at_origin"
    assert tests[0]["status"] == "passed" and tests[0]["output"] == ""


def test_failed_error_and_skipped_are_failed_with_message_and_hint(full_grade: Grade) -> None:
    by_name = {t["name"].split(": ")[1]: t for t in gradescope_results(full_grade)["tests"]}
    failed = by_name["test_hessian_values"]
    assert failed["status"] == "failed" and failed["score"] == 0 and failed["visibility"] == "visible"
    assert "the Hessian at (1, 2) is wrong" in failed["output"]
    assert "Hint: The Hessian is symmetric" in failed["output"]
    assert by_name["test_critical_points_count"]["status"] == "failed"  # skipped: not passed
    assert by_name["test_hessian_hidden"]["visibility"] == "after_published"


def test_overall_output_lists_written_answers_cell_errors_and_warnings(full_grade: Grade) -> None:
    results = gradescope_results(full_grade)
    output = results["output"]
    assert "q5_explain (2 points)" in output and "q6_reflect (1 point)" in output and "by hand" in output
    assert "Cell 4 raised NameError: name 'np' is not defined" in output
    assert "Only the public tests ran." in output and "cut to 100 kB" in output
    assert results["stdout_visibility"] == "hidden"
    assert not any(t["name"].startswith("q5_explain") for t in results["tests"])  # not autograded


def test_hidden_visibility_can_be_hidden(full_grade: Grade) -> None:
    tests = gradescope_results(full_grade, hidden_visibility="hidden")["tests"]
    assert {t["visibility"] for t in tests} == {"visible", "hidden"}


def test_write_gradescope_is_ascii_json_even_with_lone_surrogates(tmp_path: Path, hostile_grade: Grade) -> None:
    path = tmp_path / "results.json"
    write_gradescope(hostile_grade, path)
    raw = path.read_bytes()
    raw.decode("ascii")
    assert json.loads(raw) == gradescope_results(hostile_grade)


def test_ansi_colours_are_stripped_from_cell_errors(full_grade: Grade) -> None:
    assert "\x1b" not in json.dumps(gradescope_results(full_grade))


@pytest.mark.slow
def test_a_real_grade_with_a_failing_hidden_test_shows_only_hint_and_safe_message(tmp_path: Path) -> None:
    grade = grade_tiny(tmp_path, "bob", TINY_PARTLY_WRONG, hidden=True)
    results = gradescope_results(grade)
    assert_valid_results(results)
    tests = {t["name"]: t for t in results["tests"]}
    hidden = tests["q1: test_add_negative"]
    assert hidden["status"] == "failed" and hidden["visibility"] == "after_published" and hidden["score"] == 0
    assert hidden["output"] == "failed: a hidden test failed\nHint: add must handle negative numbers"
    public = tests["q2: test_halve"]
    assert public["visibility"] == "visible" and "assert 1.0 == 1.5" in public["output"]
    assert results["score"] == pytest.approx(17 / 3, abs=1e-5) and "w1 (2 points)" in results["output"]

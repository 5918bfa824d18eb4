"""Tests of the JUnit XML report: structure, counts, points, schema and escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import etree

from grader.model import CellError, Grade, QuestionResult
from grader.model import TestResult as Result  # not "Test*": pytest would collect it
from grader.reports.junit import grade_to_junit, write_junit

XSD = Path(__file__).parents[1] / "data" / "junit.xsd"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _parse(grade: Grade) -> ET.Element:
    return ET.fromstring(grade_to_junit(grade))


def _suite(root: ET.Element, name: str) -> ET.Element:
    (suite,) = [s for s in root.iter("testsuite") if s.get("name") == name]
    return suite


def _properties(element: ET.Element) -> dict[str, str]:
    return {
        p.get("name", ""): p.get("value", "")
        for p in element.findall("properties/property")
    }


@pytest.mark.parametrize("name", ["full_grade", "passing_grade", "hostile_grade"])
def test_validates_against_the_junit_schema(
    name: str, request: pytest.FixtureRequest, schema: etree.XMLSchema
) -> None:
    document = etree.fromstring(grade_to_junit(request.getfixturevalue(name)))
    assert schema.validate(document), schema.error_log


def test_an_empty_grade_validates(schema: etree.XMLSchema) -> None:
    document = etree.fromstring(grade_to_junit(Grade("a", "s", ())))
    assert schema.validate(document), schema.error_log


@pytest.mark.parametrize(
    ("xpath", "attribute", "value"),
    [
        (".//testcase", "classname", None),
        (".//testcase", "time", "nan"),
        (".//testsuite", "tests", "-1"),
    ],
)
def test_the_schema_rejects_what_reporters_cannot_read(
    full_grade: Grade,
    schema: etree.XMLSchema,
    xpath: str,
    attribute: str,
    value: str | None,
) -> None:
    # The schema must have teeth, or validating against it proves nothing.
    document = etree.fromstring(grade_to_junit(full_grade))
    element = document.find(xpath)
    assert element is not None
    if value is None:
        del element.attrib[attribute]
    else:
        element.set(attribute, value)
    assert not schema.validate(document)


def test_one_suite_per_question_then_notebook_and_written(full_grade: Grade) -> None:
    root = _parse(full_grade)
    assert root.tag == "testsuites" and root.get("name") == "optimization_intro"
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "optimization_intro.q1_gradient",
        "optimization_intro.q2_hessian",
        "optimization_intro.q3_critical_points",
        "optimization_intro.q4_sampling",
        "optimization_intro.notebook",
        "optimization_intro.written",
    ]
    for suite in root.findall("testsuite"):
        assert {c.get("classname") for c in suite.findall("testcase")} <= {
            suite.get("name")
        }


def test_counts_match_outcomes(full_grade: Grade) -> None:
    root = _parse(full_grade)
    for question in full_grade.questions:
        suite = _suite(root, f"optimization_intro.{question.id}")
        outcomes = [t.outcome for t in question.tests]
        assert suite.get("tests") == str(len(outcomes))
        assert suite.get("failures") == str(outcomes.count("failed"))
        assert suite.get("errors") == str(outcomes.count("error"))
        assert suite.get("skipped") == str(outcomes.count("skipped"))
        assert len(suite.findall("testcase")) == len(outcomes)
        assert len(suite.findall("testcase/failure")) == outcomes.count("failed")
        assert len(suite.findall("testcase/error")) == outcomes.count("error")
        assert len(suite.findall("testcase/skipped")) == outcomes.count("skipped")
    # Totals: 10 tests + 2 cell errors + 2 written answers.
    assert (
        root.get("tests"),
        root.get("failures"),
        root.get("errors"),
        root.get("skipped"),
    ) == (
        "14",
        "3",
        "3",
        "3",
    )
    for key in ("tests", "failures", "errors", "skipped"):
        assert root.get(key) == str(
            sum(int(s.get(key, "")) for s in root.findall("testsuite"))
        )


def test_points_properties(full_grade: Grade) -> None:
    root = _parse(full_grade)
    for question in full_grade.questions:
        suite = _suite(root, f"optimization_intro.{question.id}")
        properties = _properties(suite)
        assert float(properties["points"]) == pytest.approx(question.score)
        assert float(properties["max_points"]) == pytest.approx(question.max_score)
        for test, case in zip(question.tests, suite.findall("testcase"), strict=True):
            assert case.get("name") == test.name
            properties = _properties(case)
            assert float(properties["points"]) == pytest.approx(test.points, abs=1e-6)
            assert float(properties["max_points"]) == pytest.approx(
                test.max_points, abs=1e-6
            )
            assert properties["visibility"] == test.visibility
            assert float(case.get("time", "")) == pytest.approx(test.duration, abs=1e-3)
    assert (
        _properties(_suite(root, "optimization_intro.q4_sampling"))["points"]
        == "3.333334"
    )


def test_failure_carries_message_and_hint_in_attribute_and_text(
    full_grade: Grade,
) -> None:
    root = _parse(full_grade)
    (case,) = [
        c for c in root.iter("testcase") if c.get("name") == "test_hessian_values"
    ]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "AssertionError: the Hessian at (1, 2) is wrong "
        "(hint: The Hessian is symmetric: check the mixed partial derivatives.)"
    )
    # GitLab shows only the text, so it must hold everything.
    assert failure.text is not None
    assert "got      [[2, 1], [1, 2]]" in failure.text
    assert failure.text.endswith(
        "Hint: The Hessian is symmetric: check the mixed partial derivatives."
    )


def test_cell_errors_are_erroring_test_cases_without_ansi(full_grade: Grade) -> None:
    suite = _suite(_parse(full_grade), "optimization_intro.notebook")
    assert (suite.get("tests"), suite.get("errors")) == ("2", "2")
    first, second = suite.findall("testcase")
    assert first.get("name") == "cell 4"
    error = first.find("error")
    assert error is not None and error.text is not None
    assert error.get("type") == "NameError"
    assert error.get("message") == "NameError: name 'np' is not defined"
    assert "----> 1 x = np.zeros(3)" in error.text  # the traceback, colours removed
    assert "[0;31m" not in error.text and "\x1b" not in error.text
    second_error = second.find("error")
    assert second_error is not None
    assert second_error.text == "ZeroDivisionError: division by zero"
    out = suite.find("system-out")
    assert out is not None and "Cell 9 printed 2.1 MB of output" in (out.text or "")


def test_written_answers_are_skipped_without_points(full_grade: Grade) -> None:
    suite = _suite(_parse(full_grade), "optimization_intro.written")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["q5_explain", "q6_reflect"]
    for case, points in zip(cases, ("2 points", "1 point"), strict=True):
        skipped = case.find("skipped")
        assert skipped is not None
        assert skipped.get("message") == f"to be graded by hand, {points}"
        assert "points" not in _properties(case)  # pending is not zero


def test_hostile_text_survives_as_literal_text(
    hostile_grade: Grade, hostile_strings: dict[str, str]
) -> None:
    raw = grade_to_junit(hostile_grade)
    raw.decode("utf-8")  # lone surrogates were dropped, not written
    assert b"\x00" not in raw and b"\x1b" not in raw
    assert b"<script>" not in raw  # escaped, not markup
    root = ET.fromstring(raw)
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "test_[red]x[/red]"
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    expected = (
        "]]> <script>alert(1)</script> red [red]x[/red] left | right `tick` & "
        + hostile_strings["chinese"]
    )
    assert failure.text.startswith(expected + "\nsecond line")
    assert failure.get("message", "").startswith(expected)
    assert failure.text.endswith("Hint: <script>alert(1)</script> left | right")
    texts = [t for e in root.iter() for t in (e.text or "", *e.attrib.values())]
    assert "lone  surrogate" in texts
    assert not any("[31m" in t for t in texts)
    assert any(hostile_strings["long"].strip() in t for t in texts)  # text is not cut
    assert all(len(e.get("message", "")) <= 300 for e in root.iter())  # attributes are


def test_repeated_names_are_made_unique(hostile_grade: Grade) -> None:
    root = _parse(hostile_grade)
    names = [
        c.get("name")
        for c in root.iter("testcase")
        if c.get("classname") == "optimization_intro.q1"
    ]
    assert names[-2:] == ["test_dup", "test_dup (2)"]
    cells = [
        c.get("name")
        for c in root.iter("testcase")
        if c.get("classname") == "optimization_intro.notebook"
    ]
    assert cells == ["cell 1", "cell 1 (2)"]


def test_times_are_plain_decimals() -> None:
    grade = Grade(
        "a",
        "s",
        (
            QuestionResult(
                "q",
                0,
                1,
                (
                    Result("t1", "passed", 0, 0, duration=1e-7),
                    Result("t2", "failed", 0, 1, duration=float("nan")),
                ),
            ),
        ),
        cell_errors=(CellError(1, "E", ""),),
    )
    root = _parse(grade)
    assert [c.get("time") for c in root.iter("testcase")] == ["0.000", "0.000", "0.000"]
    error = root.find(".//error")
    assert error is not None and error.get("message") == "E" and error.text == "E"


def test_write_junit(tmp_path: Path, full_grade: Grade) -> None:
    path = tmp_path / "junit.xml"
    write_junit(full_grade, path)
    assert path.read_bytes() == grade_to_junit(full_grade)
    assert path.read_bytes().startswith(
        b"<?xml version='1.0' encoding='utf-8'?>\n<testsuites"
    )

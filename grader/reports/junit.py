"""Write a grade as JUnit XML (Jenkins/Surefire style) for CI test reporters.

Layout::

    <testsuites name=ASSIGNMENT tests= failures= errors= skipped= time=>
      <testsuite name="ASSIGNMENT.QID" ...>          one per question
        <properties> points, max_points </properties>
        <testcase classname="ASSIGNMENT.QID" name=TEST time=>
          <properties> points, max_points, visibility </properties>
          <failure message=...>  | <error ...> | <skipped ...>
      <testsuite name="ASSIGNMENT.notebook">         cell errors, warnings
      <testsuite name="ASSIGNMENT.written">          written answers

Cell errors are reported as a separate ``notebook`` suite holding one
``<error>`` test case per failing cell, not as suite-level ``<system-err>``:
GitLab, dorny/test-reporter, mikepenz/action-junit-report and
EnricoMi/publish-unit-test-result-action build their views and annotations from
test cases and ignore suite-level output, so a ``<system-err>`` would be
invisible exactly where a student looks. As errors they also make the run red.

GitLab shows a failure's element text and ignores its ``message`` attribute, so
the text always carries the full message and the hint; the attribute carries a
one-line summary for the reporters that show it. GitLab also keys test cases by
classname and name and drops duplicates, so names are made unique per suite.

All text is treated as student-derived: characters XML 1.0 cannot carry
(control characters other than tab, newline and carriage return, lone
surrogates, U+FFFE/U+FFFF) are removed, as are whole ANSI escape sequences
(IPython tracebacks are coloured). ElementTree escapes the rest, so ``]]>`` or
``<script>`` stay literal text. Only the standard library is used.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from grader.model import CellError, Grade, QuestionResult, TestResult, WrittenAnswer
from grader.reports.text import format_points, strip_ansi

SUMMARY_LIMIT = 300
"""Characters of the one-line ``message`` attribute; the element text is not cut."""

# The complement of XML 1.0's Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def grade_to_junit(grade: Grade) -> bytes:
    """The grade as a UTF-8 JUnit XML document."""
    suites = [_question_suite(grade.assignment, q) for q in grade.questions]
    if grade.cell_errors or grade.warnings:
        suites.append(_notebook_suite(grade))
    if grade.written:
        suites.append(_written_suite(grade.assignment, grade.written))

    root = ET.Element("testsuites", name=_xml(grade.assignment))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in suites)))
    root.set("time", _seconds(sum(t.duration for t in grade.tests)))
    root.extend(suites)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def write_junit(grade: Grade, path: Path) -> None:
    """Write :func:`grade_to_junit` of ``grade`` to ``path``."""
    path.write_bytes(grade_to_junit(grade))


def _question_suite(assignment: str, question: QuestionResult) -> ET.Element:
    """The suite of one question, one test case per test."""
    name = f"{assignment}.{question.id}"
    outcomes = [t.outcome for t in question.tests]
    suite = _suite(
        name,
        tests=len(outcomes),
        failures=outcomes.count("failed"),
        errors=outcomes.count("error"),
        skipped=outcomes.count("skipped"),
        time=sum(t.duration for t in question.tests),
    )
    _properties(
        suite, points=_number(question.score), max_points=_number(question.max_score)
    )
    for test, unique in zip(
        question.tests, _unique(t.name for t in question.tests), strict=True
    ):
        suite.append(_test_case(name, unique, test))
    return suite


def _test_case(classname: str, name: str, test: TestResult) -> ET.Element:
    """One test: its points as properties, and how it did not pass, if it did not."""
    case = ET.Element(
        "testcase",
        classname=_xml(classname),
        name=_xml(name),
        time=_seconds(test.duration),
    )
    _properties(
        case,
        points=_number(test.points),
        max_points=_number(test.max_points),
        visibility=test.visibility,
    )
    if test.outcome == "failed" or test.outcome == "error":
        child = ET.SubElement(case, "failure" if test.outcome == "failed" else "error")
        child.set("message", _summary(test))
        child.text = _details(test)
    elif test.outcome == "skipped":
        skipped = ET.SubElement(
            case, "skipped", message=_one_line(test.message) or "skipped"
        )
        if test.message.strip():
            skipped.text = _xml(test.message)
    return case


def _notebook_suite(grade: Grade) -> ET.Element:
    """Cell errors as erroring test cases; warnings as the suite's output."""
    name = f"{grade.assignment}.notebook"
    suite = _suite(name, tests=len(grade.cell_errors), errors=len(grade.cell_errors))
    names = _unique(f"cell {error.cell}" for error in grade.cell_errors)
    for error, unique in zip(grade.cell_errors, names, strict=True):
        suite.append(_cell_error_case(name, unique, error))
    if grade.warnings:
        out = ET.SubElement(suite, "system-out")
        out.text = "".join(f"warning: {_xml(w)}\n" for w in grade.warnings)
    return suite


def _cell_error_case(classname: str, name: str, error: CellError) -> ET.Element:
    """One notebook cell that raised, with its traceback as the error text."""
    case = ET.Element(
        "testcase", classname=_xml(classname), name=_xml(name), time=_seconds(0)
    )
    summary = _one_line(
        f"{error.ename}: {error.evalue}" if error.evalue else error.ename
    )
    child = ET.SubElement(case, "error", message=summary, type=_one_line(error.ename))
    child.text = _xml(error.traceback) if error.traceback.strip() else summary
    return case


def _written_suite(assignment: str, answers: tuple[WrittenAnswer, ...]) -> ET.Element:
    """Written answers: skipped while they wait for a human, plain cases once scored.

    A pending answer has no ``points`` property: it has not earned zero.
    """
    name = f"{assignment}.written"
    pending = sum(a.score is None for a in answers)
    suite = _suite(name, tests=len(answers), skipped=pending)
    for answer, unique in zip(answers, _unique(a.id for a in answers), strict=True):
        case = ET.SubElement(
            suite, "testcase", classname=_xml(name), name=_xml(unique), time=_seconds(0)
        )
        if answer.score is None:
            unit = "point" if _number(answer.points) == "1" else "points"
            _properties(case, max_points=_number(answer.points))
            ET.SubElement(
                case,
                "skipped",
                message=f"to be graded by hand, {_number(answer.points)} {unit}",
            )
        else:
            _properties(
                case, points=_number(answer.score), max_points=_number(answer.points)
            )
    return suite


def _suite(
    name: str,
    *,
    tests: int,
    failures: int = 0,
    errors: int = 0,
    skipped: int = 0,
    time: float = 0.0,
) -> ET.Element:
    """An empty ``<testsuite>`` with its counts."""
    return ET.Element(
        "testsuite",
        name=_xml(name),
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=_seconds(time),
    )


def _properties(parent: ET.Element, **values: str) -> None:
    """Append ``<properties>`` with one ``<property>`` per keyword."""
    properties = ET.SubElement(parent, "properties")
    for key, value in values.items():
        ET.SubElement(properties, "property", name=key, value=_xml(value))


def _summary(test: TestResult) -> str:
    """One line for the ``message`` attribute: the message's first line and the hint."""
    summary = _one_line(test.message) or f"test {test.outcome} without a message"
    hint = _one_line(test.hint)
    if hint:
        summary = f"{summary} (hint: {hint})"
    return _cut(summary, SUMMARY_LIMIT)


def _details(test: TestResult) -> str:
    """The element text of a failure or error: the full message, then the hint."""
    parts = [_xml(test.message).strip() or f"test {test.outcome} without a message"]
    hint = _xml(test.hint).strip()
    if hint:
        parts.append(f"Hint: {hint}")
    return "\n\n".join(parts)


def _unique(names: Iterable[str]) -> list[str]:
    """``names`` with repeats numbered, ``x``, ``x (2)``, so CI reporters keep them all."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate)
        result.append(candidate)
    return result


def _xml(text: str) -> str:
    """``text`` with Unix newlines and only the characters XML 1.0 can carry."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_XML_CHAR.sub("", strip_ansi(text))


def _one_line(text: str) -> str:
    """The first non-blank line of ``text``, XML-safe and cut at :data:`SUMMARY_LIMIT`."""
    for line in _xml(text).splitlines():
        if line.strip():
            return _cut(line.strip(), SUMMARY_LIMIT)
    return ""


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis if cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    """A point value for a property: up to six decimals, no trailing zeros."""
    return format_points(value, decimals=6)


def _seconds(value: float) -> str:
    """A ``time`` attribute: seconds as a plain decimal (the schemas say xs:decimal)."""
    return f"{value:.3f}" if math.isfinite(value) and value > 0 else "0.000"

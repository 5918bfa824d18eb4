"""A grade as Gradescope's autograder ``results.json``.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
a top-level ``score`` (which overrides the sum of the tests' scores),
``execution_time``, ``output`` and ``output_format``, ``stdout_visibility``,
and ``tests``, each with ``name``, ``number``, ``score``, ``max_score``,
``status`` (``"passed"``/``"failed"``), ``output``, ``output_format`` and
``visibility``.

Mapping from the grade model:

- one Gradescope test per test of the grade, numbered ``<question>.<test>``
  (1-based, in grade order) and named ``<question id>: <test name>``;
- a test that did not pass is ``"failed"``, skipped and errored ones included
  (nothing fails open);
- public tests are ``"visible"``; hidden tests get ``hidden_visibility``
  (``"after_published"`` by default), and their output holds only the hint and
  the message the grade carries, which the grader already keeps free of the
  hidden test's code and expected values;
- written answers are graded by hand in Gradescope's own outline, so they are
  not tests here (a test's ``max_score`` would add to the autograder's total);
  the top-level ``output`` lists them with their points;
- cell errors and warnings go into the top-level ``output``; ``stdout`` of the
  grading run is hidden from students.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from grader.model import Grade, TestResult

HiddenVisibility = Literal["after_published", "after_due_date", "hidden"]

# ANSI escape sequences: IPython's tracebacks are coloured; Gradescope shows text.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


def _short_name(name: str) -> str:
    return name.rsplit("::", 1)[-1]


def _test_output(test: TestResult) -> str:
    lines = []
    if not test.passed:
        lines.append(f"{test.outcome}: {_plain(test.message)}" if test.message else test.outcome)
        if test.hint:
            lines.append(f"Hint: {test.hint}")
    return "\n".join(lines)


def _overall_output(grade: Grade) -> str:
    lines = [f"Autograded score: {grade.score:g} / {grade.max_score:g}"]
    if not grade.hidden_tests:
        lines.append("Only the public tests ran.")
    if grade.written:
        listed = ", ".join(f"{w.id} ({w.points:g} point{'' if w.points == 1 else 's'})" for w in grade.written)
        lines.append(f"Written answers are graded by hand: {listed}.")
    for error in grade.cell_errors:
        lines.append(f"Cell {error.cell} raised {error.ename}: {_plain(error.evalue)}")
    lines += [f"Warning: {w}" for w in grade.warnings]
    return "\n".join(lines)


def gradescope_results(grade: Grade, hidden_visibility: HiddenVisibility = "after_published") -> dict[str, Any]:
    """The grade as a Gradescope ``results.json`` document (a JSON-ready dict)."""
    tests = []
    for qnum, question in enumerate(grade.questions, start=1):
        for tnum, test in enumerate(question.tests, start=1):
            tests.append({
                "name": f"{question.id}: {_short_name(test.name)}",
                "number": f"{qnum}.{tnum}",
                "score": round(test.points, 6),
                "max_score": round(test.max_points, 6),
                "status": "passed" if test.passed else "failed",
                "output": _test_output(test),
                "output_format": "text",
                "visibility": "visible" if test.visibility == "public" else hidden_visibility,
            })
    return {
        "score": grade.score,
        "execution_time": round(grade.timings.get("total", sum(grade.timings.values()))),
        "output": _overall_output(grade),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(grade: Grade, path: Path) -> None:
    """Write :func:`gradescope_results` to ``path`` (``/autograder/results/results.json`` on Gradescope)."""
    text = json.dumps(gradescope_results(grade), indent=2, ensure_ascii=True)  # ASCII: lone surrogates stay valid
    path.write_text(text + "\n", encoding="utf-8")

"""GitHub workflow commands: escaping, annotations of failing questions, and the guard around student text."""

from __future__ import annotations

import io
import re

from grader.model import CellError, Grade, QuestionResult
from grader.model import TestResult as Result  # not "Test*": pytest would collect it
from grader.reports.github import (
    CommandGuard,
    escape_data,
    escape_property,
    grade_to_annotations,
    workflow_command,
)

from ..github_runner import Command, acted_on

# What a student's notebook might put into a message: every kind of workflow command, both syntaxes.
INJECTION = ("boom\n::add-mask::secret\r::set-env name=PATH::/tmp/evil\n  ::error file=x.py::forged\n"
             "##[set-output name=score]100\n::stop-commands::mine\n::endgroup:: 100% done, a:b")


def _grade(message: str = INJECTION, hidden: bool = False) -> Grade:
    return Grade(
        "tiny",
        "alice",
        questions=(
            QuestionResult("q1", 4, 4, (Result("test_add", "passed", 4, 4),)),
            QuestionResult("q2,x::y", 1, 6, (
                Result("test_square", "failed", 0, 3, message=message, hint="Square it:\nx * x, 100%"),
                Result("test_halve", "error", 1, 3, message="second"),
            )),
        ),
        cell_errors=(CellError(2, "RuntimeError", "::add-mask::cell\nmore"), CellError(3, "SyntaxError", "")),
        hidden_tests=hidden,
    )


def test_escapes_follow_the_runner() -> None:
    assert escape_data("100%\r\n::x, y") == "100%25%0D%0A::x, y"
    assert escape_property("100%\r\n::x, y") == "100%25%0D%0A%3A%3Ax%2C y"
    assert workflow_command("error", "a\nb", title="T: 1, 2", file="n.ipynb") == \
        "::error title=T%3A 1%2C 2,file=n.ipynb::a%0Ab"
    assert workflow_command("notice", "plain") == "::notice::plain"


def test_annotations_are_one_line_each_and_read_back_as_written() -> None:
    lines = grade_to_annotations(_grade(), "work/tiny.ipynb")
    assert all("\n" not in line and "\r" not in line for line in lines)
    acted = acted_on(lines)
    assert [c.name for c in acted] == ["error", "warning", "notice"]
    error, warning, notice = acted
    assert error.properties == {"title": "Question q2,x::y: 1 / 6 points", "file": "work/tiny.ipynb"}
    assert error.data == ("test_square: boom\nHint: Square it:\n(1 more failing test in q2,x::y)")
    assert warning.properties["title"] == "Errors in notebook cells"
    assert warning.data == "cell 2: RuntimeError: ::add-mask::cell\n(and 1 more cell with errors)"
    assert notice.data.startswith("tiny: 5 / 10 (public tests only") and notice.properties == {"title": "Score 5 / 10"}
    # Nothing but the three annotations: every command in the student's text stayed data.
    assert not [c for c in acted if c.name in ("add-mask", "set-env", "set-output", "stop-commands")]


def test_passing_grade_gets_only_the_score() -> None:
    grade = Grade("tiny", "alice", (QuestionResult("q1", 4, 4, (Result("t", "passed", 4, 4),)),), hidden_tests=True)
    assert grade_to_annotations(grade) == ["::notice title=Score 4 / 4::tiny: 4 / 4"]


def test_control_characters_and_ansi_never_reach_an_annotation() -> None:
    lines = grade_to_annotations(_grade(message="\x1b[31mred\x1b[0m\x00\x07 \u202eevil \x85next"))
    assert "test_square: red evil next" in acted_on(lines)[0].data


def test_long_messages_are_cut() -> None:
    lines = grade_to_annotations(_grade(message="x" * 10_000))
    assert len(acted_on(lines)[0].data) == 1000 and acted_on(lines)[0].data.endswith("…")


def test_guard_stops_every_command_in_between() -> None:
    out = io.StringIO()
    guard = CommandGuard(out)
    guard.open()
    out.write(INJECTION + "\n")
    guessed = [f"::{guess}::" for guess in ("", "grader", "stop", "0" * 32, "mine", guard.token[:-1], "resume")]
    out.write("\n".join(guessed) + "\n::stop-commands::other\n::other::\n::error::still stopped\n")
    guard.close(grade_to_annotations(_grade()))
    acted = acted_on(out.getvalue().splitlines())
    assert acted[0] == Command("stop-commands", {}, guard.token)
    assert acted[1] == Command(guard.token, {}, "")
    assert [c.name for c in acted[2:]] == ["error", "warning", "notice"]
    assert out.getvalue().splitlines()[-4] == f"::{guard.token}::"


def test_guard_token_is_random_and_closes_once() -> None:
    tokens = {CommandGuard(io.StringIO()).token for _ in range(50)}
    assert len(tokens) == 50 and all(re.fullmatch("[0-9a-f]{32}", t) for t in tokens)
    out = io.StringIO()
    guard = CommandGuard(out, token="t0k")
    guard.open()
    guard.close(["::notice::a"])
    guard.close(["::notice::b"])
    assert out.getvalue() == "::stop-commands::t0k\n::t0k::\n::notice::a\n"

"""GitHub Actions workflow commands: annotations for failing questions, and a guard around student text.

A GitHub runner reads every line a step prints and acts on the ones that look
like workflow commands: ``::error ...::``, ``::add-mask::``, ``::group::``,
``::stop-commands::`` (leading blanks allowed), and the older ``##[command]``
form anywhere in a line. Messages, hints, cell errors and notebook file names
all come from the student, so ``grader check --annotations github`` prints
everything it prints between ``::stop-commands::TOKEN`` and ``::TOKEN::``
(:class:`CommandGuard`): while stopped, the runner ignores every command but the
one that resumes with the same token. The token is 128 random bits drawn in the
grader's process at the start of the check; the worker, the only place student
code runs, never sees it, so student text cannot end the guard early.

The annotations (:func:`grade_to_annotations`) are printed after the guard, one
``::error`` per question with a failing test and one ``::notice`` with the
score. Their text is escaped as the runner unescapes it (``%``, ``\\r``, ``\\n``
in the message; also ``:`` and ``,`` in properties), so one annotation stays one
line and one command whatever the student wrote. Only plain data of the grade
model is read.
"""

from __future__ import annotations

import re
import secrets
from typing import TextIO

from grader.model import Grade, QuestionResult
from grader.reports.text import format_points, strip_ansi

MESSAGE_LIMIT = 1000
"""Characters of an annotation's message (GitHub shows up to about 64 KiB, but a line is what a student reads)."""

TITLE_LIMIT = 200
"""Characters of an annotation's title."""

# Controls but tab and newline, DEL and C1, lone surrogates, bidirectional overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def escape_data(text: str) -> str:
    """``text`` as a workflow command's message: ``%``, carriage return and newline percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """``text`` as a workflow command's property value: also ``:`` and ``,`` percent-encoded."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    """One workflow command line, ``::command key=value,...::message``, with every part escaped."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def grade_to_annotations(grade: Grade, notebook: str | None = None) -> list[str]:
    """Workflow commands for ``grade``: an ``::error`` per failing question, then a ``::notice`` with the score.

    ``notebook`` (a path relative to the repository root) attaches the
    annotations to that file in the pull request and commit views.
    """
    where = {"file": _clean(notebook)} if notebook else {}
    lines = [
        workflow_command("error", _question_message(q), title=_question_title(q), **where)
        for q in grade.questions
        if q.failed_tests
    ]
    if grade.cell_errors:
        count = len(grade.cell_errors)
        first = grade.cell_errors[0]
        text = f"cell {first.cell}: {_clean(first.ename) or 'Error'}"
        if _first_line(first.evalue):
            text += f": {_first_line(first.evalue)}"
        if count > 1:
            text += f"\n(and {count - 1} more cell{'s' if count > 2 else ''} with errors)"
        lines.append(workflow_command("warning", _cut(text, MESSAGE_LIMIT), title="Errors in notebook cells", **where))
    score = f"{format_points(grade.score)} / {format_points(grade.max_score)}"
    note = "" if grade.hidden_tests else " (public tests only; the final grade also includes hidden tests)"
    lines.append(workflow_command("notice", f"{_clean(grade.assignment)}: {score}{note}", title=f"Score {score}"))
    return lines


class CommandGuard:
    """Stops the runner's processing of workflow commands on ``stream`` until :meth:`close`.

    ``token`` is the secret that resumes processing; tests pass their own,
    everything else takes the default, 32 random hexadecimal digits.
    """

    def __init__(self, stream: TextIO, token: str | None = None) -> None:
        self.stream = stream
        self.token = token or secrets.token_hex(16)
        self.closed = False

    def open(self) -> None:
        """Print ``::stop-commands::TOKEN`` and flush, before anything else reaches the log."""
        self.stream.write(f"::stop-commands::{self.token}\n")
        self.stream.flush()

    def close(self, after: list[str] | None = None) -> None:
        """Resume processing with ``::TOKEN::``, then print ``after`` (already escaped commands)."""
        if self.closed:
            return
        self.closed = True
        self.stream.flush()
        self.stream.write(f"::{self.token}::\n")
        for line in after or []:
            self.stream.write(line + "\n")
        self.stream.flush()


def _question_title(question: QuestionResult) -> str:
    """``Question q3: 2 / 5 points``."""
    unit = "point" if format_points(question.max_score) == "1" else "points"
    points = f"{format_points(question.score)} / {format_points(question.max_score)} {unit}"
    return _cut(f"Question {_clean(question.id)}: {points}", TITLE_LIMIT)


def _question_message(question: QuestionResult) -> str:
    """The first failing test of a question, its message and hint, and how many more fail."""
    failed = question.failed_tests
    test = failed[0]
    outcome = "" if test.outcome == "failed" else f" ({test.outcome})"
    message = _first_line(test.message) or f"test {test.outcome} without a message"
    lines = [f"{_clean(test.name)}{outcome}: {message}"]
    hint = _first_line(test.hint)
    if hint:
        lines.append(f"Hint: {hint}")
    if len(failed) > 1:
        more = len(failed) - 1
        lines.append(f"({more} more failing test{'s' if more > 1 else ''} in {_clean(question.id)})")
    return _cut("\n".join(lines), MESSAGE_LIMIT)


def _clean(text: str) -> str:
    """``text`` on one line without ANSI sequences or control characters."""
    return " ".join(_UNSAFE.sub("", strip_ansi(text)).split())


def _first_line(text: str) -> str:
    """The first non-blank line of ``text``, cleaned."""
    for line in _UNSAFE.sub("", strip_ansi(text)).splitlines():
        if line.strip():
            return _clean(line)
    return ""


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis if cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

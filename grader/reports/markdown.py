"""Write a grade as GitHub-flavoured Markdown, for CI job summaries.

Student-derived text is put on one line and escaped so that it can neither
break the table nor turn into markup: ``&``, ``<`` and ``>`` become entities
(no raw HTML reaches the page), and the characters that start inline markup or
end a table cell (backslash, backtick, ``*``, ``_``, ``~``, ``[``, ``]``,
``|`` and ``$``, which GitHub reads as maths) are backslash-escaped. Control
characters and ANSI escape sequences are removed.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.model import Grade, QuestionResult, TestResult, WrittenAnswer
from grader.reports.text import format_points, strip_ansi

MESSAGE_LIMIT = 200
"""Characters of a message, hint or error value shown in the summary."""

# Controls other than tab and newline, DEL and C1, and lone surrogates (which
# cannot be written as UTF-8).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BACKSLASHED = "\\`*_~[]|$"
_ESCAPES = str.maketrans({**{c: f"\\{c}" for c in _BACKSLASHED}, **_ENTITIES})


def grade_to_markdown(grade: Grade) -> str:
    """The grade as a Markdown summary: heading, table, what to fix, pending work."""
    lines = [
        f"## {_md(grade.assignment)}: {format_points(grade.score)} / {format_points(grade.max_score)}",
        "",
    ]
    if grade.submission:
        lines += [f"Submission: {_md(grade.submission)}", ""]
    if not grade.hidden_tests:
        note = "only the public tests ran here; the final grade also includes hidden tests."
        lines += [f"> **Note:** {note}", ""]

    lines += ["| Question | Score | Max | Status |", "| --- | ---: | ---: | --- |"]
    lines += [
        f"| {_md(q.id)} | {format_points(q.score)} | {format_points(q.max_score)} | {_status(q)} |"
        for q in grade.questions
    ]
    lines += [
        f"| **Total** | **{format_points(grade.score)}** | **{format_points(grade.max_score)}** | |",
        "",
    ]

    failing = [(q, t) for q in grade.questions for t in q.failed_tests]
    if failing:
        lines += ["### What to fix", ""]
        lines += [_test_item(q, t) for q, t in failing]
        lines.append("")
    elif grade.all_passed:
        lines += ["All tests passed.", ""]
    if grade.cell_errors:
        lines += ["### Errors in notebook cells", ""]
        for error in grade.cell_errors:
            name = _md(error.ename, MESSAGE_LIMIT) or "Error"
            value = _md(error.evalue, MESSAGE_LIMIT)
            lines.append(
                f"- Cell {error.cell}: {name}: {value}"
                if value
                else f"- Cell {error.cell}: {name}"
            )
        lines.append("")
    if grade.written:
        lines += ["### Written answers", ""]
        lines += [_written_item(w) for w in grade.written]
        lines.append("")
    if grade.warnings:
        lines += ["### Warnings", ""]
        lines += [f"- {_md(w)}" for w in grade.warnings]
        lines.append("")
    if grade.grader_version:
        lines += [f"<sub>grader {_md(grade.grader_version)}</sub>", ""]
    return "\n".join(lines)


def write_markdown(grade: Grade, path: Path) -> None:
    """Write :func:`grade_to_markdown` of ``grade`` to ``path`` as UTF-8."""
    path.write_text(grade_to_markdown(grade), encoding="utf-8")


def _status(question: QuestionResult) -> str:
    """The status cell of one question."""
    if not question.tests:
        return "➖ no tests"
    if not question.failed_tests:
        return "✅ passed"
    if question.score > 0:
        return "⚠️ partial"
    return "❌ failed"


def _test_item(question: QuestionResult, test: TestResult) -> str:
    """One list item for a test that did not pass: where, which, why, and the hint."""
    outcome = "" if test.outcome == "failed" else f" ({test.outcome})"
    message = (
        _md(test.message, MESSAGE_LIMIT) or f"test {test.outcome} without a message"
    )
    item = f"- **{_md(question.id)}** {_md(test.name)}{outcome}: {message}"
    hint = _md(test.hint, MESSAGE_LIMIT)
    return f"{item} — *Hint:* {hint}" if hint else item


def _written_item(answer: WrittenAnswer) -> str:
    """One list item for a written answer: pending with its points, or its score."""
    if answer.score is None:
        unit = "point" if format_points(answer.points) == "1" else "points"
        status = f"{format_points(answer.points)} {unit}, to be graded by hand"
    else:
        status = f"graded by hand: {format_points(answer.score)} / {format_points(answer.points)}"
    empty = " (no answer found)" if not answer.text.strip() else ""
    return f"- **{_md(answer.id)}**: {status}{empty}"


def _md(text: str, limit: int | None = None) -> str:
    """``text`` as literal inline Markdown: one line, optionally its first only, escaped.

    With a ``limit``, only the first non-blank line is kept and cut at ``limit``
    characters; without, all lines are joined with spaces. Cutting happens
    before escaping so that no escape is cut in half.
    """
    lines = [
        line.strip()
        for line in _UNSAFE.sub("", strip_ansi(text)).splitlines()
        if line.strip()
    ]
    if limit is None:
        flat = " ".join(lines)
    else:
        flat = lines[0] if lines else ""
        if len(flat) > limit:
            flat = flat[: limit - 1] + "…"
    return flat.translate(_ESCAPES)

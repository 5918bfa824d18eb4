"""Render a grade on a rich console: the per-question table and notes a student reads.

Every string that comes from the grade is put on the console as a
:class:`rich.text.Text`, never as a markup string, so that a student's error
message such as ``[red]x[/red]`` prints literally. Terminal control sequences
are removed from that text as well: an ANSI escape in an exception message
could otherwise recolour, move the cursor or clear the screen, for example to
paint a forged score over the real one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.model import CellError, Grade, QuestionResult, TestResult, WrittenAnswer
from grader.reports.text import format_points, strip_ansi

MESSAGE_LIMIT = 200
"""Characters of a message, hint or error value shown on its one line."""

# What is left that a terminal could act on: C0 controls but tab and newline,
# DEL and C1 controls (0x9b is a one-byte CSI on some terminals), lone
# surrogates (unencodable: printing one would crash), and the bidirectional
# overrides and isolates that make text display in another order than it reads.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)


@dataclass(frozen=True)
class _Symbols:
    """The marks used on one console: Unicode where it can encode them, else ASCII."""

    passed: str
    partial: str
    failed: str
    empty: str
    ellipsis: str
    separator: str


_UNICODE = _Symbols(
    passed="✓", partial="◐", failed="✗", empty="–", ellipsis="…", separator="—"
)
_ASCII = _Symbols(
    passed="+", partial="~", failed="x", empty="-", ellipsis="...", separator="-"
)


def render_terminal(grade: Grade, console: Console) -> None:
    """Print ``grade`` on ``console``: question table, what failed, notes, total."""
    symbols = _UNICODE if console.encoding.lower().startswith("utf") else _ASCII
    console.print(_question_table(grade, symbols))

    # One line per failing part (a student function): its first failure and
    # hint, and how many more fail; JSON and JUnit list every test.
    parts: dict[tuple[str, str], list[tuple[QuestionResult, TestResult]]] = {}
    for question in grade.questions:
        for test in question.failed_tests:
            parts.setdefault((question.id, test.part or test.name), []).append((question, test))
    if parts:
        console.print(Text("Tests to fix", style="bold"))
        for (_, part), failures in parts.items():
            console.print(_test_line(*failures[0], symbols))
            if len(failures) > 1:
                more = len(failures) - 1
                console.print(Text(f"      and {more} more failing test{'s' if more > 1 else ''} of {_clean(part)}",
                                   style="dim"))
    if grade.cell_errors:
        console.print(Text("Errors in notebook cells", style="bold"))
        for error in grade.cell_errors:
            console.print(_cell_error_line(error, symbols))
    if grade.written:
        console.print(Text("Written answers", style="bold"))
        for answer in grade.written:
            console.print(_written_line(answer))
    if grade.warnings:
        console.print(Text("Warnings", style="bold"))
        for warning in grade.warnings:
            console.print(Text.assemble(("  ! ", "yellow"), _clean(warning)))

    console.print(_total_line(grade))
    if not grade.hidden_tests:
        console.print(
            Text(
                "Note: only the public tests ran here; "
                "your final grade also includes hidden tests.",
                style="yellow",
            )
        )


def _points_phrase(points: float) -> str:
    """``1 point``, ``2.5 points``."""
    return f"{format_points(points)} point{'' if format_points(points) == '1' else 's'}"


def _question_table(grade: Grade, symbols: _Symbols) -> Table:
    """One row per question: id, points earned / possible, status, tests passed."""
    title = Text.assemble((_clean(grade.assignment), "bold"))
    if grade.submission:
        title.append(f" {symbols.separator} ")
        title.append(_clean(grade.submission))
    table = Table(title=title, title_justify="left")
    table.add_column("Question")
    table.add_column("Points", justify="right")
    table.add_column("Status")
    table.add_column("Tests passed", justify="right")
    for question in grade.questions:
        passed = sum(t.passed for t in question.tests)
        table.add_row(
            Text(_clean(question.id)),
            Text(f"{format_points(question.score)} / {format_points(question.max_score)}"),
            _status(question, symbols),
            Text(f"{passed}/{len(question.tests)}"),
        )
    return table


def _status(question: QuestionResult, symbols: _Symbols) -> Text:
    """The status mark of one question."""
    if not question.tests:
        return Text(f"{symbols.empty} no tests", style="dim")
    if not question.failed_tests:
        return Text(f"{symbols.passed} passed", style="green")
    if question.score > 0:
        return Text(f"{symbols.partial} partial", style="yellow")
    return Text(f"{symbols.failed} failed", style="red")


def _test_line(question: QuestionResult, test: TestResult, symbols: _Symbols) -> Text:
    """One line for a test that did not pass: where, which, why, and the hint."""
    line = Text.assemble(
        (f"  {symbols.failed} ", "red"),
        (_clean(question.id), "bold"),
        " ",
        (_clean(test.name), "cyan"),
    )
    if test.outcome != "failed":
        line.append(f" ({test.outcome})", style="magenta")
    message = (
        _one_line(test.message, symbols) or f"test {test.outcome} without a message"
    )
    line.append(": ")
    line.append(message)
    hint = _one_line(test.hint, symbols)
    if hint:
        line.append(" Hint: ", style="bold green")
        line.append(hint)
    return line


def _cell_error_line(error: CellError, symbols: _Symbols) -> Text:
    """One line for an error raised by a notebook cell."""
    line = Text.assemble(
        (f"  {symbols.failed} ", "red"), (f"cell {error.cell}", "bold"), ": "
    )
    line.append(_one_line(error.ename, symbols) or "Error", style="red")
    value = _one_line(error.evalue, symbols)
    if value:
        line.append(": ")
        line.append(value)
    return line


def _written_line(answer: WrittenAnswer) -> Text:
    """One line for a written answer: points possible, or the score a grader gave."""
    line = Text.assemble("  ", (_clean(answer.id), "bold"), ": ")
    if answer.score is None:
        line.append(f"to be graded by hand ({_points_phrase(answer.points)})")
    else:
        line.append(
            f"graded by hand: {format_points(answer.score)} / {format_points(answer.points)}"
        )
    if not answer.text.strip():
        line.append(" (no answer found)", style="yellow")
    return line


def _total_line(grade: Grade) -> Text:
    """The autograded total, and the written-answer points still to be graded."""
    line = Text(
        f"Score: {format_points(grade.score)} / {format_points(grade.max_score)}",
        style="bold",
    )
    pending = sum(w.points for w in grade.written if w.score is None)
    if pending:
        line.append(
            f" (autograded; {_points_phrase(pending)} more "
            "for written answers, graded by hand)",
            style="not bold",
        )
    return line


def _clean(text: str) -> str:
    """``text`` without the control sequences and characters a terminal could act on."""
    return _UNSAFE.sub("", strip_ansi(text))


def _one_line(text: str, symbols: _Symbols) -> str:
    """The first non-blank line of ``text``, cleaned and cut at :data:`MESSAGE_LIMIT`."""
    for line in text.splitlines():
        # Cut before cleaning so that a megabyte-long line costs nothing; the
        # margin leaves room for the escape sequences that cleaning removes.
        first = _clean(line[: MESSAGE_LIMIT * 4]).strip()
        if first:
            if len(first) > MESSAGE_LIMIT:
                return first[: MESSAGE_LIMIT - len(symbols.ellipsis)] + symbols.ellipsis
            return first
    return ""

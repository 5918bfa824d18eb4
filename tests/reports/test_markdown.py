"""Tests of the Markdown summary: content, escaping, and tables that stay tables."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from grader.model import Grade, QuestionResult, WrittenAnswer
from grader.model import TestResult as Result  # not "Test*": pytest would collect it
from grader.reports.markdown import grade_to_markdown, write_markdown


def _cells(row: str) -> list[str]:
    """The cells of a GFM table row: split on pipes not escaped by a backslash."""
    cells, cell, chars = [], "", iter(row.strip().removeprefix("|").removesuffix("|"))
    for char in chars:
        if char == "\\":
            cell += char + next(chars, "")
        elif char == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += char
    return [*cells, cell]


def _table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def _html(markdown: str) -> str:
    """``markdown`` rendered as GitHub would, near enough: CommonMark, tables, no raw HTML trust."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def _pipe_grade() -> Grade:
    return Grade(
        "a|b",
        "s|t",
        (
            QuestionResult(
                "q|1",
                0.5,
                1,
                (
                    Result(
                        "t|x", "failed", 0.5, 1, message="x | y || z \\| w\\", hint="|"
                    ),
                ),
            ),
            QuestionResult("q2\\", 1, 1, (Result("t", "passed", 1, 1),)),
        ),
    )


def test_heading_has_assignment_and_score(
    full_grade: Grade, passing_grade: Grade
) -> None:
    assert grade_to_markdown(full_grade).startswith(
        "## optimization\\_intro: 7.33 / 15\n"
    )
    assert grade_to_markdown(passing_grade).startswith(
        "## optimization\\_intro: 10 / 10\n"
    )


def test_question_table(full_grade: Grade) -> None:
    rows = _table_rows(grade_to_markdown(full_grade))
    assert rows[0] == "| Question | Score | Max | Status |"
    assert rows[2:] == [
        "| q1\\_gradient | 3 | 3 | ✅ passed |",
        "| q2\\_hessian | 1 | 4 | ⚠️ partial |",
        "| q3\\_critical\\_points | 0 | 3 | ❌ failed |",
        "| q4\\_sampling | 3.33 | 5 | ⚠️ partial |",
        "| **Total** | **7.33** | **15** | |",
    ]


def test_table_rows_keep_four_cells_with_pipes_in_text() -> None:
    markdown = grade_to_markdown(_pipe_grade())
    rows = _table_rows(markdown)
    assert len(rows) == 2 + 3
    assert all(len(_cells(row)) == 4 for row in rows), rows
    html = _html(markdown)
    assert html.count("<tr>") == 1 + 3
    assert html.count("<td") == 3 * 4
    assert "<td>q|1</td>" in html and "<td>q2\\</td>" in html


def test_what_to_fix_lists_failing_tests_with_hints(full_grade: Grade) -> None:
    markdown = grade_to_markdown(full_grade)
    assert "### What to fix" in markdown
    assert (
        "- **q2\\_hessian** test\\_hessian\\_values: AssertionError: the Hessian at (1, 2) is wrong"
        " — *Hint:* The Hessian is symmetric: check the mixed partial derivatives.\n"
    ) in markdown
    assert (
        "- **q2\\_hessian** test\\_hessian\\_hidden (error): ZeroDivisionError: division by zero\n"
        in markdown
    )
    assert "expected [[2, 0]" not in markdown  # first line only
    assert "test\\_gradient\\_at\\_origin" not in markdown


def test_all_passed(passing_grade: Grade) -> None:
    markdown = grade_to_markdown(passing_grade)
    assert "All tests passed." in markdown
    assert "What to fix" not in markdown
    assert "only the public tests ran" not in markdown


def test_cell_errors_written_answers_warnings_and_note(full_grade: Grade) -> None:
    markdown = grade_to_markdown(full_grade)
    assert "- Cell 4: NameError: name 'np' is not defined\n" in markdown
    assert "- Cell 7: ZeroDivisionError: division by zero\n" in markdown
    assert "- **q5\\_explain**: 2 points, to be graded by hand\n" in markdown
    assert (
        "- **q6\\_reflect**: 1 point, to be graded by hand (no answer found)\n"
        in markdown
    )
    assert "- Cell 9 printed 2.1 MB of output; it was cut to 100 kB.\n" in markdown
    assert "> **Note:** only the public tests ran here" in markdown


def test_graded_written_answer_shows_its_score() -> None:
    grade = Grade("a", "s", (), written=(WrittenAnswer("w1", 2.0, "text", score=1.5),))
    assert "- **w1**: graded by hand: 1.5 / 2\n" in grade_to_markdown(grade)


def test_hostile_text_cannot_inject_html_or_markup(
    hostile_grade: Grade, hostile_strings: dict[str, str]
) -> None:
    markdown = grade_to_markdown(hostile_grade)
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert re.search(r"(?<!\\)`", markdown) is None  # every backtick escaped
    assert re.search(r"&(?!amp;|lt;|gt;)", markdown) is None  # every & an entity
    assert "\x00" not in markdown and "\x1b" not in markdown and "[31m" not in markdown
    assert hostile_strings["chinese"] in markdown
    html = _html(markdown)
    assert "<script>" not in html and "<code>" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        "]]&gt; &lt;script&gt;alert(1)&lt;/script&gt; red [red]x[/red] left | right `tick` &amp; "
        in html
    )


def test_long_messages_are_cut(hostile_grade: Grade) -> None:
    line = next(
        line
        for line in grade_to_markdown(hostile_grade).splitlines()
        if "test\\_long" in line
    )
    assert line.endswith("…") and len(line) < 300


def test_write_markdown(tmp_path: Path, hostile_grade: Grade) -> None:
    path = tmp_path / "summary.md"
    write_markdown(hostile_grade, path)
    assert path.read_text(encoding="utf-8") == grade_to_markdown(hostile_grade)

"""Tests of the rich terminal report: table, failing tests, notes and escaping."""

from __future__ import annotations

import io

from rich.console import Console

from grader.model import Grade, QuestionResult, WrittenAnswer
from grader.model import TestResult as Result  # not "Test*": pytest would collect it
from grader.reports.terminal import MESSAGE_LIMIT, render_terminal


def _render(grade: Grade) -> str:
    """The plain text a 100-column console shows for ``grade``."""
    console = Console(record=True, width=100, file=io.StringIO())
    render_terminal(grade, console)
    return console.export_text()


def _flat(grade: Grade) -> str:
    """:func:`_render` with runs of whitespace, line wrapping included, as one space."""
    return " ".join(_render(grade).split())


def _one_question(*tests: Result, score: float = 0.0, max_score: float = 1.0) -> Grade:
    return Grade("a", "s", (QuestionResult("q1", score, max_score, tests),))


def test_score_line_shows_points_with_at_most_two_decimals(full_grade: Grade) -> None:
    out = _flat(full_grade)
    assert "Score: 7.33 / 15" in out
    assert "3.33 / 5" in out  # q4: 3.333334 of 5
    assert "3 / 3" in out and "3.00" not in out and "3.0 " not in out


def test_passing_grade_has_whole_number_score(passing_grade: Grade) -> None:
    out = _flat(passing_grade)
    assert "Score: 10 / 10" in out
    assert "2.5 / 2.5" in out
    assert "Tests to fix" not in out


def test_table_has_status_and_tests_passed(full_grade: Grade) -> None:
    lines = _render(full_grade).splitlines()
    row = {
        q: next(line for line in lines if f" {q} " in line)
        for q in ("q1_gradient", "q2_hessian", "q3_critical_points")
    }
    assert "passed" in row["q1_gradient"] and "2/2" in row["q1_gradient"]
    assert "partial" in row["q2_hessian"] and "1/3" in row["q2_hessian"]
    assert "failed" in row["q3_critical_points"] and "0/2" in row["q3_critical_points"]


def test_failing_tests_show_first_line_of_message_and_hint(full_grade: Grade) -> None:
    out = _flat(full_grade)
    assert (
        "q2_hessian test_hessian_values: AssertionError: the Hessian at (1, 2) is wrong"
        in out
    )
    assert "expected [[2, 0]" not in out  # only the first line
    assert "Hint: The Hessian is symmetric" in out
    assert "test_hessian_hidden (error): ZeroDivisionError" in out
    assert (
        "test_critical_points_count (skipped): depends on test_critical_points" in out
    )
    assert "test_gradient_at_origin" not in out  # passed tests are not listed


def test_long_message_is_cut(hostile_grade: Grade) -> None:
    out = _flat(hostile_grade)
    assert "…" in out
    shown = out.count("very long message")
    assert 0 < shown <= MESSAGE_LIMIT // len("very long message ") + 1


def test_rich_markup_in_student_text_prints_literally(hostile_grade: Grade) -> None:
    out = _flat(hostile_grade)
    assert "test_[red]x[/red]" in out
    assert "red [red]x[/red] left | right" in out
    assert "eve [red]x[/red]" in out  # submission name in the title
    assert "! [red]x[/red] <script>alert(1)</script>" in out  # warning


def test_markup_is_not_interpreted_on_a_colour_terminal() -> None:
    file = io.StringIO()
    console = Console(
        file=file, width=100, force_terminal=True, color_system="truecolor"
    )
    grade = _one_question(
        Result("t", "failed", 0, 1, message="[blink]boom[/blink] :smile:")
    )
    render_terminal(grade, console)
    raw = file.getvalue()
    assert "[blink]boom[/blink] :smile:" in raw
    assert "\x1b[5m" not in raw  # blink was not turned on


def test_terminal_control_sequences_are_removed(hostile_grade: Grade) -> None:
    grade = _one_question(
        Result(
            "t",
            "failed",
            0,
            1,
            message="a\x00b\x1b[2Jc\x1b]8;;http://evil\x07d\x9be\u202eevil\ud800f\x07g",
        )
    )
    out = _render(grade) + _render(hostile_grade)
    for bad in (
        "\x00",
        "\x1b",
        "\x9b",
        "\u202e",
        "\ud800",
        "\x07",
        "\r",
        "[2J",
        "[31m",
        "http://evil",
    ):
        assert bad not in out, repr(bad)
    assert "abcdeevilfg" in out


def test_non_ascii_text_is_shown(
    hostile_grade: Grade, hostile_strings: dict[str, str]
) -> None:
    assert hostile_strings["chinese"] in _flat(hostile_grade)


def test_cell_errors_one_line_each(full_grade: Grade) -> None:
    out = _flat(full_grade)
    assert "cell 4: NameError: name 'np' is not defined" in out
    assert "cell 7: ZeroDivisionError: division by zero" in out
    assert "Traceback" not in out


def test_written_answers_are_pending_not_zero(full_grade: Grade) -> None:
    out = _flat(full_grade)
    assert "q5_explain: to be graded by hand (2 points)" in out
    assert "q6_reflect: to be graded by hand (1 point) (no answer found)" in out
    assert "0 / 2" not in out and "2 / 2" not in out
    assert "Score: 7.33 / 15 (autograded; 3 points more for written answers" in out


def test_graded_written_answer_shows_its_score() -> None:
    grade = Grade("a", "s", (), written=(WrittenAnswer("w1", 2.0, "text", score=1.5),))
    out = _flat(grade)
    assert "w1: graded by hand: 1.5 / 2" in out
    assert "to be graded by hand" not in out
    assert out.endswith(
        "Score: 0 / 0 Note: only the public tests ran here; your final grade also includes hidden tests."
    )  # nothing pending


def test_hidden_tests_note_only_when_they_did_not_run(
    full_grade: Grade, passing_grade: Grade
) -> None:
    assert "only the public tests ran" in _flat(full_grade)
    assert "only the public tests ran" not in _flat(passing_grade)


def test_warnings_are_listed(full_grade: Grade) -> None:
    assert "! Cell 9 printed 2.1 MB of output" in _flat(full_grade)


def test_ascii_console_gets_ascii_marks(full_grade: Grade) -> None:
    # A console that cannot encode "✓" must still get the whole report.
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="ascii")
    render_terminal(full_grade, Console(file=stream, width=100))
    stream.flush()
    out = buffer.getvalue().decode("ascii")
    assert "+ passed" in out and "x failed" in out and "~ partial" in out
    assert "Score: 7.33 / 15" in out


def test_failures_are_grouped_by_part() -> None:
    tests = [Result(f"t{i}", "failed", 0, 1, message=f"boom {i}", hint="fix f", part="f") for i in range(3)]
    tests.append(Result("u", "failed", 0, 1, message="bad g", part="g"))
    out = _flat(_one_question(*tests, max_score=4))
    assert "boom 0" in out and "boom 1" not in out and "and 2 more failing tests of f" in out
    assert "bad g" in out and "more failing test of g" not in out

"""Grades built by hand for the report-writer tests: passing, mixed, and hostile."""

from __future__ import annotations

import pytest

from grader.model import CellError, Grade, QuestionResult, TestResult, WrittenAnswer

# Student-derived strings that try to break out of each format. Each is
# checked to come out as literal text (or, for control characters that a
# format cannot carry, not at all).
CDATA_END = "]]>"
SCRIPT = "<script>alert(1)</script>"
CONTROL = "\x00\x1b[31m"
RICH_MARKUP = "[red]x[/red]"
PIPE = "left | right"
CHINESE = "梯度计算错误：期望 2，得到 3"
LONG = "very long message " * 500
HOSTILE_MESSAGE = (
    f"{CDATA_END} {SCRIPT} {CONTROL}red {RICH_MARKUP} {PIPE} `tick` & {CHINESE}"
)


def _traceback() -> str:
    """An IPython-style coloured traceback, as the worker records it."""
    return (
        "\x1b[0;31m---------------------------------------------------------------\x1b[0m\n"
        "\x1b[0;31mNameError\x1b[0m                  Traceback (most recent call last)\n"
        "Cell \x1b[0;32mIn[4], line 1\x1b[0m\n"
        "\x1b[0;32m----> 1\x1b[0m x \x1b[38;5;241m=\x1b[39m np\x1b[38;5;241m.\x1b[39mzeros(\x1b[38;5;241m3\x1b[39m)\n"
        "\n"
        "\x1b[0;31mNameError\x1b[0m: name 'np' is not defined"
    )


def make_full_grade() -> Grade:
    """A realistic grade with a bit of everything: the golden-file example."""
    third = round(5 / 3, 6)
    return Grade(
        assignment="optimization_intro",
        submission="alice",
        questions=(
            QuestionResult(
                id="q1_gradient",
                score=3.0,
                max_score=3.0,
                tests=(
                    TestResult(
                        "test_gradient_at_origin", "passed", 1.5, 1.5, duration=0.021
                    ),
                    TestResult(
                        "test_gradient_random_points",
                        "passed",
                        1.5,
                        1.5,
                        duration=0.134,
                    ),
                ),
            ),
            QuestionResult(
                id="q2_hessian",
                score=1.0,
                max_score=4.0,
                tests=(
                    TestResult("test_hessian_shape", "passed", 1.0, 1.0, duration=0.01),
                    TestResult(
                        "test_hessian_values",
                        "failed",
                        0.0,
                        2.0,
                        message=(
                            "AssertionError: the Hessian at (1, 2) is wrong\n"
                            "expected [[2, 0], [0, 2]]\n"
                            "got      [[2, 1], [1, 2]]"
                        ),
                        hint="The Hessian is symmetric: check the mixed partial derivatives.",
                        duration=0.05,
                    ),
                    TestResult(
                        "test_hessian_hidden",
                        "error",
                        0.0,
                        1.0,
                        message="ZeroDivisionError: division by zero",
                        duration=0.002,
                        visibility="hidden",
                    ),
                ),
            ),
            QuestionResult(
                id="q3_critical_points",
                score=0.0,
                max_score=3.0,
                tests=(
                    TestResult(
                        "test_critical_points",
                        "failed",
                        0.0,
                        2.0,
                        message="The notebook does not define critical_points.",
                        hint="Define critical_points(f) in the cell under Question 3.",
                    ),
                    TestResult(
                        "test_critical_points_count",
                        "skipped",
                        0.0,
                        1.0,
                        message="depends on test_critical_points",
                    ),
                ),
            ),
            QuestionResult(
                id="q4_sampling",
                score=round(2 * third, 6),
                max_score=5.0,
                tests=(
                    TestResult("test_mean", "passed", third, third, duration=0.4),
                    TestResult("test_variance", "passed", third, third, duration=0.41),
                    TestResult(
                        "test_tail_probability",
                        "failed",
                        0.0,
                        third,
                        message="P(X > 3) | estimate 0.41 is 6 standard errors from <0.5> & off",
                        hint="Use `torch.rand`, not `torch.randn`.",
                        duration=0.39,
                        part="b",
                    ),
                ),
            ),
        ),
        cell_errors=(
            CellError(4, "NameError", "name 'np' is not defined", _traceback()),
            CellError(7, "ZeroDivisionError", "division by zero"),
        ),
        written=(
            WrittenAnswer("q5_explain", 2.0, "The Hessian is positive definite, so..."),
            WrittenAnswer("q6_reflect", 1.0, "   "),
        ),
        warnings=("Cell 9 printed 2.1 MB of output; it was cut to 100 kB.",),
        timings={"notebook": 1.25, "tests": 3.5},
        sandbox=("network: off", "memory: 2 GiB"),
        hidden_tests=False,
        grader_version="0.1.0",
    )


def make_passing_grade() -> Grade:
    """Every test passes, hidden tests included, nothing else to say."""
    return Grade(
        assignment="optimization_intro",
        submission="bob",
        questions=(
            QuestionResult(
                "q1",
                2.5,
                2.5,
                (
                    TestResult("test_a", "passed", 1.25, 1.25, duration=0.1),
                    TestResult("test_b", "passed", 1.25, 1.25, duration=0.2),
                ),
            ),
            QuestionResult(
                "q2",
                7.5,
                7.5,
                (TestResult("test_c", "passed", 7.5, 7.5, visibility="hidden"),),
            ),
        ),
        hidden_tests=True,
        grader_version="0.1.0",
    )


def make_hostile_grade() -> Grade:
    """Student-derived text everywhere, written to break out of each format."""
    return Grade(
        assignment="optimization_intro",
        submission=f"eve {RICH_MARKUP} {PIPE}",
        questions=(
            QuestionResult(
                id="q1",
                score=0.0,
                max_score=10 / 3,
                tests=(
                    TestResult(
                        f"test_{RICH_MARKUP}",
                        "failed",
                        0.0,
                        10 / 3,
                        message=f"{HOSTILE_MESSAGE}\nsecond line",
                        hint=f"{SCRIPT} {PIPE}",
                    ),
                    TestResult("test_long", "error", 0.0, 0.0, message=LONG),
                    TestResult(
                        "test_skip",
                        "skipped",
                        0.0,
                        0.0,
                        message=f"{CONTROL}{CDATA_END}",
                    ),
                    TestResult(
                        "test_surrogate",
                        "failed",
                        0.0,
                        0.0,
                        message="lone \ud800 surrogate",
                    ),
                    # The same name twice: CI reporters drop duplicates.
                    TestResult("test_dup", "passed", 0.0, 0.0),
                    TestResult("test_dup", "passed", 0.0, 0.0),
                ),
            ),
        ),
        cell_errors=(
            CellError(
                1, "ValueError", HOSTILE_MESSAGE, f"{CONTROL}{CDATA_END}{SCRIPT}"
            ),
            CellError(1, RICH_MARKUP, PIPE),
        ),
        written=(WrittenAnswer(f"w_{PIPE}", 1.5, SCRIPT),),
        warnings=(f"{RICH_MARKUP} {SCRIPT} {CHINESE}",),
    )


@pytest.fixture
def full_grade() -> Grade:
    """See :func:`make_full_grade`."""
    return make_full_grade()


@pytest.fixture
def passing_grade() -> Grade:
    """See :func:`make_passing_grade`."""
    return make_passing_grade()


@pytest.fixture
def hostile_grade() -> Grade:
    """See :func:`make_hostile_grade`."""
    return make_hostile_grade()


@pytest.fixture
def hostile_strings() -> dict[str, str]:
    """The hostile strings used in :func:`make_hostile_grade`, by name."""
    return {
        "cdata_end": CDATA_END,
        "script": SCRIPT,
        "control": CONTROL,
        "rich_markup": RICH_MARKUP,
        "pipe": PIPE,
        "chinese": CHINESE,
        "long": LONG,
    }

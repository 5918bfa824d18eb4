"""The grader's own exception types.

Two families: :class:`GraderError` for the grader's callers (bad input, a
broken sandbox), turned into exit codes by the command line only; and
:class:`SubmissionError` for what a student's code did during a call (missing
function, exception, timeout, dead worker, undecodable result), which fails the
one test that made the call with a message written for the student.
"""

from __future__ import annotations


class GraderError(Exception):
    """Base class of errors the command line reports and exits on."""

    exit_code = 3


class InputError(GraderError):
    """Bad input from the user: a path, a notebook or an assignment."""

    exit_code = 2


class OtherAssignment(InputError):
    """The notebook declares another assignment than the one it is graded for."""

    def __init__(self, notebook: object, declared: str, expected: str) -> None:
        super().__init__(f"{notebook} is a notebook of assignment {declared[:80]!r}, not of {expected!r}")
        self.declared, self.expected = declared, expected


class SandboxError(GraderError):
    """The worker could not be started or talked to at all."""

    exit_code = 3


class ProtocolError(Exception):
    """Bytes from the worker that do not decode as the wire format allows."""


class SubmissionError(AssertionError):
    """A call into the submission did not produce a value.

    Subclasses :class:`AssertionError` so that pytest reports it as a test
    failure, not as an error in the test itself. Its message is meant for the
    student and is shown even for hidden tests.
    """


class MissingFunction(SubmissionError):
    """The notebook does not define the function a test calls."""


class StudentException(SubmissionError):
    """The student's function raised an exception."""


class CallTimeout(SubmissionError):
    """The student's function ran past the per-call time limit."""


class TotalTimeout(CallTimeout):
    """The submission's code used up the time limit of the whole grading (cells and calls together)."""


class WorkerDied(SubmissionError):
    """The worker process died during a call (exit, crash, memory limit)."""


class BadResult(SubmissionError):
    """The student's function returned something the grader cannot accept."""


class TestsOutOfTime(BaseException):
    """The tests' own work on a submission used up its CPU time in one grading (``tests_cpu_time``).

    Raised in the test running, from a timer: a value the student chose can make
    a check slow, and that must cost a grade, never the grader. A BaseException,
    so that no check's ``except Exception`` swallows it.
    """


class CheckFailure(AssertionError):
    """A check helper found a wrong answer.

    Its message is written for the student and never holds the expected value
    of a hidden test, so it is shown for hidden tests too. ``detail`` says how
    far the answer is from the expected one ("largest error 0.5") and is shown
    with public tests only: beside a hidden test, a guess and its distance give
    the expected value away in two or three submissions.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(f"{message} ({detail})" if detail else message)
        self.without_detail = message

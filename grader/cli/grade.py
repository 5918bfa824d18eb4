"""``grader grade SUBMISSIONS... --solutions DIR``: the instructor's batch command.

Finds the submissions (:mod:`grader.submissions`), skips those whose
notebook and test suite are unchanged since their last grade in the gradebook
(``--regrade`` forces), grades the rest in parallel slots
(:mod:`grader.slots`), or on a Dask cluster's workers with ``--dask``
(:mod:`grader.cluster`), and records each grade in its own transaction the
moment it arrives, so an interrupted run loses nothing already graded and
the same command resumes it. Per student it writes ``OUT/grades/ID.json``,
``OUT/feedback/ID.html`` and ``OUT/gradescope/ID/results.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from grader.assignment import Assignment, find_assignment, find_solutions, solution_names
from grader.cli.common import EXIT_FAILED, EXIT_OK, limit_option, one_line_errors, parse_limits
from grader.digests import digest_code, digest_file, digest_suite, read_digested, suite_paths
from grader.errors import InputError
from grader.gradebook import Gradebook
from grader.model import Grade, QuestionResult, WrittenAnswer, grade_from_dict
from grader.notebook import read_notebook
from grader.submissions import Submission, find_submissions

if TYPE_CHECKING:
    from grader.slots import Outcome, Task


@click.command()
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--solutions", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="The solutions folder: hidden tests and the reference.")
@click.option("--assignment", metavar="NAME_OR_DIR", help="The assignment (default: from the notebooks' metadata).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="all cores",
              help="Submissions graded at once on this machine, at most twice its cores (not with --dask).")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786), one submission "
                   "per worker thread at once; the assignment and solutions folders must exist at the same paths "
                   "on every worker. Needs pip install 'grader[dask]'.")
@click.option("--gradebook", type=click.Path(path_type=Path, dir_okay=False),
              help="The SQLite gradebook (default: OUT/gradebook.sqlite).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("graded"), show_default=True,
              help="Where grades, feedback pages and Gradescope results go.")
@click.option("--regrade", is_flag=True, help="Grade again even what is unchanged since its last grade.")
@click.option("--student", "students", multiple=True, metavar="ID", help="Grade only this student (repeatable).")
@click.option("--no-progress", is_flag=True, help="No progress bar (one line per student instead).")
@limit_option
@one_line_errors
def grade(submissions: tuple[Path, ...], solutions: Path, assignment: str | None, jobs: int, dask_address: str | None,
          gradebook: Path | None, out: Path, regrade: bool, students: tuple[str, ...], no_progress: bool,
          limits: tuple[str, ...]) -> None:
    """Grade a class's notebooks (files, folders or zips) with the hidden tests, in parallel."""
    from grader.reports.gradescope import write_gradescope
    from grader.reports.html import write_html
    from grader.reports.json_report import write_json
    from grader.slots import Task

    overrides = parse_limits(limits)
    run = _pool(jobs, dask_address)
    # Ctrl-C or a kill (see grader.cli.main.run) stops the run cleanly: whatever was recorded stays, a rerun resumes.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror or exc}") from None
    everything = find_submissions(list(submissions), out / "unpacked")
    found, unusable = everything.submissions, everything.unusable
    if students:
        unknown = sorted(set(students) - {s.student for s in found} - {u.student for u in unusable})
        if unknown:
            raise InputError(f"no submission for student(s) {', '.join(unknown)}")
        found = [s for s in found if s.student in students]
        unusable = [u for u in unusable if u.student in students]
    if not found:
        why = f": {unusable[0].student}: {unusable[0].why}" if unusable else ""
        raise InputError("no notebook to grade in " + ", ".join(map(str, submissions)) + why)
    declared = None if assignment is not None else _declared(found, solutions)
    manifest = find_assignment(found[0].path, assignment, declared, solutions)
    sols = find_solutions(solutions, manifest)
    manifest.limits.updated(overrides)  # bad --limit values fail now, not in every slot
    suite, code = digest_suite(suite_paths(manifest, sols)), digest_code()
    # What a grade is current for: the suite and the --limit overrides (a wrong call_timeout's grades were kept).
    graded_with = suite if not overrides else hashlib.sha256(
        json.dumps([suite, sorted(overrides.items())]).encode()).hexdigest()
    sols_path = str(solutions.resolve())

    def outputs(student: str) -> tuple[tuple[Path, Callable[[Grade, Path], None]], ...]:
        return ((out / "grades" / f"{student}.json", write_json),
                (out / "feedback" / f"{student}.html", write_html),
                (out / "gradescope" / student / "results.json", write_gradescope))

    def write_outputs(student: str, result: Grade) -> None:
        """Each file whole or not at all (a full disk or a kill left half a file that later runs kept)."""
        for path, write in outputs(student):
            partial = path.with_name(path.name + ".partial")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write(result, partial)
                os.replace(partial, path)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                raise InputError(f"cannot write {path}: {exc.strerror or exc} (the grade is in the gradebook; "
                                 "run again to write its files)") from None

    book_path = gradebook or out / "gradebook.sqlite"
    with _alone_on(book_path), Gradebook(book_path) as book:
        def unchanged(sub: Submission) -> bool:
            """Graded before with these bytes and this suite (an unreadable file is not: its turn reports it)."""
            try:
                return book.is_current(sub.student, manifest.name, digest_file(sub.path), graded_with)
            except InputError:
                return False

        to_grade = [sub for sub in found if regrade or not unchanged(sub)]
        graded: dict[str, str] = {}  # student -> digest of the bytes graded, as each is read
        latest = book.latest(manifest.name)
        for student in sorted({sub.student for sub in found} - {sub.student for sub in to_grade}):
            if not all(path.exists() for path, _ in outputs(student)):  # removed since, or never written whole
                write_outputs(student, latest[student])
        progress = _Progress(len(to_grade) + len(unusable), len(found) - len(to_grade), quiet=no_progress)
        memory: dict[str, float] = {}

        def tasks() -> Iterator[Task]:
            """The tasks, each notebook read when a slot takes it (the digest recorded is that of the bytes graded)."""
            for sub in to_grade:
                try:
                    content, graded[sub.student] = read_digested(sub.path)
                except InputError as exc:
                    progress.advance(sub.student, None, str(exc))
                    continue
                yield Task(sub.student, sub.path.name, content, str(manifest.root), sols_path, overrides, suite, code)

        def record(outcome: Outcome) -> None:
            result = None
            if outcome.grade is not None:
                result = grade_from_dict(outcome.grade)
            elif outcome.unreadable:  # a zero saying why: the student has a row in the gradebook and the CSV
                result = _zero(manifest, outcome.student, outcome.error)
            if result is not None:  # otherwise (a slot died twice) the next run grades it again
                book.record(outcome.student, manifest.name, graded[outcome.student], graded_with, result)
                write_outputs(outcome.student, result)
            peaks = {**outcome.memory_mib, "worker": result.resources.get("peak_rss_mib", 0.0) if result else 0.0}
            for key, value in peaks.items():
                memory[key] = max(memory.get(key, 0.0), value)
            progress.advance(outcome.student, result if outcome.grade is not None else None, outcome.error)

        with progress:
            for problem in unusable:  # not recorded: the next run looks again
                progress.advance(problem.student, None, problem.why)
            run(tasks(), record)
    progress.summary(memory, book.path)
    sys.exit(EXIT_OK if progress.errors == 0 else EXIT_FAILED)


def _pool(jobs: int, dask_address: str | None) -> Callable[[Iterable[Task], Callable[[Outcome], None]], None]:
    """Where the tasks are graded: ``jobs`` local slots, or the Dask cluster at ``dask_address``.

    Dask's ``distributed`` is imported only for ``--dask``: it is an optional dependency.
    """
    from grader.slots import run_local

    if dask_address is None:
        cores = os.cpu_count() or 1
        if jobs > 2 * cores:  # each slot holds about 0.5 GB; more than the cores can run only adds memory
            raise InputError(f"--jobs {jobs} is more than twice this machine's {cores} cores: "
                             f"slots beyond the cores grade no faster and each holds about 0.5 GB")
        return lambda tasks, on_outcome: run_local(tasks, jobs, on_outcome)
    if click.get_current_context().get_parameter_source("jobs") is ParameterSource.COMMANDLINE:
        raise InputError("--jobs is for the local pool; with --dask each worker grades one submission per thread")
    try:
        from grader.cluster import run_dask
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in ("distributed", "dask"):
            raise
        raise InputError("--dask needs Dask's distributed package: pip install 'grader[dask]'") from None
    return lambda tasks, on_outcome: run_dask(tasks, dask_address, on_outcome)


def _zero(manifest: Assignment, student: str, why: str) -> Grade:
    """The grade of a notebook that cannot be graded: nothing earned, and why."""
    return Grade(manifest.name, student,
                 tuple(QuestionResult(q.id, 0.0, q.points) for q in manifest.questions),
                 written=tuple(WrittenAnswer(w.id, w.points, "") for w in manifest.written),
                 warnings=(f"not graded: {why}",))


@contextlib.contextmanager
def _alone_on(gradebook: Path) -> Iterator[None]:
    """One ``grader grade`` at a time on a gradebook (two at once graded every student twice), where flock exists."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        gradebook.parent.mkdir(parents=True, exist_ok=True)
        lock = open(gradebook.with_name(gradebook.name + ".lock"), "a")  # noqa: SIM115 - held for the run
    except OSError as exc:
        raise InputError(f"cannot use {gradebook}: {exc.strerror or exc}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"another grader grade is using {gradebook}: let it finish, "
                             "or give this one another --gradebook") from None
        yield


def _declared(found: list[Submission], solutions: Path) -> str | None:
    """The assignment to grade when ``--assignment`` is not given.

    The one the solutions folder holds, if it holds one; else the one most
    notebooks declare in their metadata (so that one student's notebook
    cannot choose for the class); InputError on a tie.
    """
    names = solution_names(solutions)
    if len(names) == 1:
        return names[0]
    declared: Counter[str] = Counter()
    for sub in found:
        with contextlib.suppress(InputError):
            name = read_notebook(sub.path, validate=False).assignment
            if name is not None:
                declared[name] += 1
    ranked = declared.most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        raise InputError(f"as many notebooks declare {ranked[0][0]!r} as {ranked[1][0]!r}; pass --assignment NAME")
    return ranked[0][0] if ranked else None


class _Progress:
    """A progress bar (done/total, failing, errors, time left) or, with ``quiet``, one line per student."""

    def __init__(self, total: int, skipped: int, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.quiet = quiet or not self.console.is_terminal
        self.total, self.skipped = total, skipped
        self.done = self.failing = self.errors = 0
        self.start = time.monotonic()
        self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
                            console=self.console, disable=self.quiet)
        self.task = self.bar.add_task("grading", total=total, status="")

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def advance(self, student: str, result: Grade | None, error: str) -> None:
        self.done += 1
        if result is None:
            self.errors += 1
            line = f"{student}: not graded: {error}"
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            self.failing += not result.all_passed
            line = f"{student}: {result.score:g}/{result.max_score:g}"
            if self.quiet:
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        self.bar.update(self.task, advance=1, status=f"{self.failing} below full marks, {self.errors} errors")

    def summary(self, memory: dict[str, float], gradebook: Path) -> None:
        seconds = time.monotonic() - self.start
        rate = f", {self.done / seconds * 60:.1f}/min" if self.done and seconds > 0 else ""
        peaks = ", ".join(f"{k} {v:.0f} MiB" for k, v in sorted(memory.items()))
        self.console.print(
            f"graded {self.done - self.errors}, not graded {self.errors}, unchanged {self.skipped}"
            f" in {seconds:.1f} s{rate}; gradebook {gradebook}" + (f"; peak memory per slot: {peaks}" if peaks else ""),
            markup=False, highlight=False, soft_wrap=True)

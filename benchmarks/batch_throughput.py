"""Grading a class: ``grader grade`` with one and two jobs against a loop of ``grader check``, in one run.

Builds N mixed submissions in a temporary folder (``batch_corpus.py``: about
60 % correct, 35 % wrong in one function, 5 % with a function that never
returns) and grades the same folder three ways, wall-clock, with the same
limits (``--limit call_timeout=2 --limit cell_timeout=10``, so that a time-out
costs the same everywhere):

- ``grader grade DIR --solutions solutions --jobs 1`` (a fresh gradebook and
  out folder), then the same with ``--jobs 2``;
- ``grader check NB --solutions solutions --json`` for one notebook after the
  other, as a shell loop does. ``--loop-sample K`` times only K notebooks, a
  sample with the corpus's kind proportions, and extrapolates: the loop's
  seconds for N are each kind's mean seconds times its count.

Prints a Markdown table (submissions per minute, speed-up against the loop),
the throughput ratio jobs 2 / jobs 1 (near-linear scaling on two cores is
2.0), and how many students' total scores differ between the methods (must be
0). Exits 1 if a command failed or a total differs. The load average is
printed before and after: on a machine that others share, two jobs cannot
keep two cores to themselves and the ratio says little. (CPU seconds are not
shown: the kernel does not charge the sandboxed workers' CPU to the command.)

``--nbgrader VENV`` adds a row for nbgrader: ``jupyter nbconvert --execute``
of the same notebooks (the loop's sample) in one process, a fresh kernel each,
as ``nbgrader autograde`` executes them, from a side venv made with
``python -m venv VENV && VENV/bin/pip install torch==2.13.0 && VENV/bin/pip
install nbgrader``. It is a lower bound of nbgrader's cost per notebook: it
runs the student's cells only, where autograde would also run the tests
(converted into notebook cells), pay for each time-out with its cell time
limit, and store results in its database.

    python benchmarks/batch_throughput.py [--submissions 100] [--loop-sample K] [--seed 0] [--nbgrader VENV]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from batch_corpus import KINDS, REPO, Submission, build_corpus, stratified_sample

SOLUTIONS = REPO / "solutions"
LIMITS = ("--limit", "call_timeout=2", "--limit", "cell_timeout=10")
CHECK_EXIT_CODES = (0, 1)  # 1: some test failed, a normal grade


@dataclass
class Run:
    """One method's outcome: wall seconds for the whole corpus, total score per student, what went wrong."""

    method: str
    seconds: float
    scores: dict[str, float]
    errors: list[str] = field(default_factory=list)
    note: str = ""


def grader_command() -> list[str]:
    """The ``grader`` console script next to this interpreter, else ``python -m grader``."""
    script = Path(sys.executable).parent / "grader"
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def timed(command: Sequence[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``command`` from the repository root; its wall seconds and result."""
    start = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=REPO)
    return time.perf_counter() - start, done


def last_line(text: str) -> str:
    """The last line of a command's error output, its message."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no message"


def total_score(path: Path) -> float:
    """The ``score`` of a grade written as JSON (``grader/reports/json_report.py``)."""
    return float(json.loads(path.read_text(encoding="utf-8"))["score"])


def grade_run(grader: list[str], folder: Path, work: Path, jobs: int, corpus: Sequence[Submission]) -> Run:
    """``grader grade`` on the whole folder, into a fresh gradebook and out folder."""
    out = work / f"jobs{jobs}"
    command = [*grader, "grade", str(folder), "--solutions", str(SOLUTIONS), "--jobs", str(jobs),
               "--gradebook", str(work / f"jobs{jobs}.sqlite"), "--out", str(out), "--no-progress", *LIMITS]
    seconds, done = timed(command)
    run = Run(f"grader grade --jobs {jobs}", seconds, {})
    if done.returncode != 0:
        run.errors.append(f"exit {done.returncode}: {last_line(done.stderr)}")
    for submission in corpus:
        path = out / "grades" / f"{submission.student}.json"
        if path.exists():
            run.scores[submission.student] = total_score(path)
        else:
            run.errors.append(f"{submission.student}: no {path.relative_to(work)}")
    return run


def check_loop(grader: list[str], sample: Sequence[Submission], corpus: Sequence[Submission], work: Path) -> Run:
    """``grader check`` on each sampled notebook in turn; the seconds extrapolated to the corpus by kind."""
    seconds: dict[str, float] = {}
    run = Run("grader check, one by one", 0.0, {})
    for submission in sample:
        grade_json = work / "loop" / f"{submission.student}.json"
        command = [*grader, "check", str(submission.path), "--solutions", str(SOLUTIONS),
                   "--json", str(grade_json), *LIMITS]
        seconds[submission.student], done = timed(command)
        if done.returncode not in CHECK_EXIT_CODES:
            run.errors.append(f"{submission.student}: exit {done.returncode}: {last_line(done.stderr)}")
        elif not grade_json.exists():
            run.errors.append(f"{submission.student}: exit {done.returncode} but no grade written")
        else:
            run.scores[submission.student] = total_score(grade_json)
    run.seconds = extrapolated(seconds, sample, corpus)
    if len(sample) < len(corpus):
        run.note = f"{len(sample)} of {len(corpus)} timed, extrapolated by kind"
    return run


def extrapolated(seconds: dict[str, float], sample: Sequence[Submission], corpus: Sequence[Submission]) -> float:
    """The seconds for the whole corpus: each kind's mean in the sample times the kind's count."""
    total = 0.0
    for kind in KINDS:
        timed_here = [seconds[s.student] for s in sample if s.kind == kind]
        if timed_here:
            total += statistics.mean(timed_here) * sum(s.kind == kind for s in corpus)
    return total


def nbconvert_run(venv: Path, sample: Sequence[Submission], corpus: Sequence[Submission], work: Path) -> Run:
    """Execute the sampled notebooks with nbconvert from ``venv``; the seconds scaled to the corpus.

    Without tests nothing calls the never-returning functions, so every kind
    of submission costs the same here and a plain average extrapolates.
    """
    command = [str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
               "--ExecutePreprocessor.timeout=10", "--output-dir", str(work / "nbconvert"),
               *(str(s.path) for s in sample)]
    seconds, done = timed(command)
    run = Run("nbgrader's floor: nbconvert --execute", seconds * len(corpus) / len(sample), {},
              note="lower bound: cells only, no tests")
    if len(sample) < len(corpus):
        run.note += f"; {len(sample)} of {len(corpus)} timed, extrapolated"
    if done.returncode != 0:
        run.errors.append(f"exit {done.returncode}: {last_line(done.stderr)}")
    return run


def warm_up(grader: list[str], submission: Submission) -> None:
    """One untimed check, so that no method pays for reading torch and friends from a cold disk."""
    timed([*grader, "check", str(submission.path), "--solutions", str(SOLUTIONS), *LIMITS])


def differing(runs: Sequence[Run]) -> list[str]:
    """The students whose total score is not the same in every run that graded them."""
    students = sorted({student for run in runs for student in run.scores})
    return [student for student in students
            if len({round(run.scores[student], 6) for run in runs if student in run.scores}) > 1]


def print_corpus(corpus: Sequence[Submission]) -> None:
    """How many submissions of each kind and variant the corpus holds."""
    counts = {kind: sum(s.kind == kind for s in corpus) for kind in KINDS}
    print(f"corpus: {len(corpus)} submissions, " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    variants = sorted({(s.kind, s.variant) for s in corpus}, key=lambda kv: (KINDS.index(kv[0]), kv[1]))
    for kind, variant in variants:
        print(f"  {kind:8} {sum(s.variant == variant for s in corpus):3}  {variant}")


def print_table(loop: Run, runs: Sequence[Run], n: int) -> None:
    """The Markdown table: one row per method, the check loop first."""
    print()
    print("| method | submissions | wall s | submissions / min | speed-up vs check loop |")
    print("|---|---:|---:|---:|---:|")
    for run in (loop, *runs):
        label = f"{run.method} ({run.note})" if run.note else run.method
        print(f"| {label} | {n} | {run.seconds:.1f} | {60 * n / run.seconds:.1f} | {loop.seconds / run.seconds:.2f}x |")


def print_scores(corpus: Sequence[Submission], run: Run) -> None:
    """Total score per kind of submission, to show that the wrong ones lose points."""
    for kind in KINDS:
        totals = [run.scores[s.student] for s in corpus if s.kind == kind and s.student in run.scores]
        if totals:
            print(f"  {kind:8} total score {min(totals):g} to {max(totals):g} (mean {statistics.mean(totals):.1f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100, metavar="N")
    parser.add_argument("--loop-sample", type=int, metavar="K", help="time the check loop on K notebooks only")
    parser.add_argument("--seed", type=int, default=0, help="the corpus's shuffle")
    parser.add_argument("--nbgrader", type=Path, metavar="VENV", help="a venv with nbgrader: add its floor's row")
    args = parser.parse_args()
    grader = grader_command()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        folder, work = Path(tmp) / "submissions", Path(tmp) / "work"
        folder.mkdir()
        corpus = build_corpus(folder, args.submissions, args.seed)
        print_corpus(corpus)
        sample = stratified_sample(corpus, args.loop_sample or len(corpus))
        warm_up(grader, corpus[0])
        loop = check_loop(grader, sample, corpus, work)
        jobs1, jobs2 = (grade_run(grader, folder, work, jobs, corpus) for jobs in (1, 2))
        others = [nbconvert_run(args.nbgrader, sample, corpus, work)] if args.nbgrader else []
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print_table(loop, [jobs1, jobs2, *others], len(corpus))
    print(f"\nthroughput jobs 2 / jobs 1: {jobs1.seconds / jobs2.seconds:.2f} (linear: 2.00)")
    graded = [loop, jobs1, jobs2]
    different = differing(graded)
    print(f"students whose total score differs between methods: {len(different)} "
          f"(of {len(jobs1.scores)}; {len(loop.scores)} of them also graded by the loop)")
    for student in different:
        print(f"  {student}: " + ", ".join(f"{run.method} {run.scores.get(student, '-')}" for run in graded))
    print(f"scores ({jobs1.method}):")
    print_scores(corpus, jobs1)
    errors = [f"{run.method}: {error}" for run in (*graded, *others) for error in run.errors]
    for error in errors:
        print(f"ERROR {error}")
    return 1 if errors or different else 0


if __name__ == "__main__":
    sys.exit(main())

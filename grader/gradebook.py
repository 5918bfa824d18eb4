"""The gradebook: every graded submission and every hand-entered written score, in SQLite.

One file, stdlib :mod:`sqlite3`, WAL journal. Each :meth:`Gradebook.record`
is one transaction, committed with ``synchronous=FULL`` before it returns, so
a crash, a ``SIGKILL`` or Ctrl-C loses nothing already recorded, and a batch
can resume by skipping what :meth:`Gradebook.is_current` says is done.
Several processes may record at once: writers take the lock up front
(``BEGIN IMMEDIATE``) and wait for it up to a busy timeout, readers never wait
(WAL).

Grades are kept as :meth:`Grade.to_dict` JSON, append-only: regrading adds a
row and :meth:`Gradebook.latest` reads the newest per student. Written scores
are one row per (student, assignment, question), replaced when re-entered.
The schema version is SQLite's ``user_version``; a file that is not SQLite,
another program's database or a newer schema is refused with an
:class:`InputError`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from grader.errors import InputError
from grader.model import Grade, grade_from_dict

SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE grades (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    submission_digest TEXT NOT NULL,
    suite_digest TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    grade TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX grades_by_student ON grades (assignment, student, id);
CREATE TABLE written_scores (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    question TEXT NOT NULL,
    score REAL NOT NULL,
    comment TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (assignment, student, question)
);
"""
_TABLES = {"grades", "written_scores"}


@dataclass(frozen=True)
class WrittenScore:
    """A hand-entered score (and comment) for one student's written answer."""

    student: str
    assignment: str
    question: str
    score: float
    comment: str = ""


class Gradebook:
    """A gradebook file, open for reading and recording; use as a context manager.

    ``create=False`` refuses a path where no gradebook exists yet (the export
    commands must not leave an empty file behind a typo).
    """

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = path
        if not create and not path.is_file():
            raise InputError(f"no gradebook at {path}")
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a gradebook file")
        try:
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"cannot open gradebook {path}: {exc}") from None
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise InputError(f"{path} is not a gradebook: {exc}") from None
        except InputError:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        # FULL: a committed grade survives a power cut too, at one fsync per
        # submission, nothing next to seconds of grading.
        db.execute("PRAGMA synchronous=FULL")
        if self._check_schema():
            return
        # A new file: take the write lock, look again (another process may
        # have just created the schema), then create it.
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        with self._transaction():
            if not self._check_schema():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_schema(self) -> bool:
        """Whether the schema is there (False: an empty database); InputError if it is not ours."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and not tables:
            return False
        if version == 0 or not _TABLES.issubset(tables):
            raise InputError(f"{self.path} is an SQLite database but not a gradebook")
        if version > SCHEMA_VERSION:
            raise InputError(f"{self.path} has gradebook schema {version}, newer than this grader reads "
                             f"({SCHEMA_VERSION}); upgrade the grader")
        return True

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (everything recorded is already committed)."""
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front so it never fails half-way on a busy lock."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ------------------------------------------------------------------ autograded results

    def record(self, student: str, assignment: str, submission_digest: str, suite_digest: str,
               grade: Grade) -> None:
        """Store one graded submission; committed (durable) when this returns."""
        data = json.dumps(grade.to_dict(), ensure_ascii=True)  # ASCII: a lone surrogate stays storable
        with self._transaction() as db:
            db.execute(
                "INSERT INTO grades (student, assignment, submission_digest, suite_digest, score, max_score,"
                " grade, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (student, assignment, submission_digest, suite_digest, grade.score, grade.max_score, data, _now()),
            )

    def is_current(self, student: str, assignment: str, submission_digest: str, suite_digest: str) -> bool:
        """Whether the student's latest grade is for this exact submission and test suite."""
        row = self._db.execute(
            "SELECT submission_digest, suite_digest FROM grades WHERE assignment = ? AND student = ?"
            " ORDER BY id DESC LIMIT 1", (assignment, student)).fetchone()
        return row is not None and tuple(row) == (submission_digest, suite_digest)

    def assignments(self) -> list[str]:
        """The assignments with at least one grade, sorted."""
        return [row[0] for row in self._db.execute("SELECT DISTINCT assignment FROM grades ORDER BY assignment")]

    def latest(self, assignment: str) -> dict[str, Grade]:
        """Each student's newest grade for ``assignment``, students sorted, with written scores merged in.

        The written answers of each grade carry the hand-entered score, or
        ``None`` when none has been entered yet.
        """
        rows = self._db.execute(
            "SELECT student, grade FROM grades WHERE id IN"
            " (SELECT MAX(id) FROM grades WHERE assignment = ? GROUP BY student) ORDER BY student",
            (assignment,)).fetchall()
        written = self.written_scores(assignment)
        out = {}
        for student, text in rows:
            grade = grade_from_dict(json.loads(text))
            scores = written.get(student, {})
            merged = tuple(replace(w, score=scores[w.id].score if w.id in scores else None) for w in grade.written)
            out[student] = replace(grade, written=merged)
        return out

    # ------------------------------------------------------------------ written answers, graded by hand

    def set_written(self, student: str, assignment: str, question: str, score: float, comment: str = "") -> None:
        """Enter (or replace) one hand-graded score; see :meth:`set_written_many`."""
        self.set_written_many([WrittenScore(student, assignment, question, score, comment)])

    def set_written_many(self, scores: Iterable[WrittenScore], cleared: Iterable[tuple[str, str, str]] = ()) -> int:
        """Enter hand-graded scores and clear those of ``cleared`` (assignment, student, question), all or none
        (one transaction); how many scores were cleared.

        Each score must be finite and not negative; whether it fits the
        question's points is the caller's check (the points live in the
        manifest and the grade).
        """
        items = list(scores)
        for s in items:
            if not math.isfinite(s.score) or s.score < 0:
                raise InputError(f"score {s.score} for {s.student} {s.question} is not a non-negative number")
        now = _now()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO written_scores (student, assignment, question, score, comment, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (assignment, student, question)"
                " DO UPDATE SET score = excluded.score, comment = excluded.comment, updated_at = excluded.updated_at",
                [(s.student, s.assignment, s.question, float(s.score), s.comment, now) for s in items],
            )
            before = db.total_changes
            db.executemany("DELETE FROM written_scores WHERE assignment = ? AND student = ? AND question = ?",
                           list(cleared))
            return db.total_changes - before

    def written_scores(self, assignment: str) -> dict[str, dict[str, WrittenScore]]:
        """The hand-entered scores of ``assignment``: student -> question -> score."""
        out: dict[str, dict[str, WrittenScore]] = {}
        for student, question, score, comment in self._db.execute(
                "SELECT student, question, score, comment FROM written_scores WHERE assignment = ?"
                " ORDER BY student, question", (assignment,)):
            out.setdefault(student, {})[question] = WrittenScore(student, assignment, question, score, comment)
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

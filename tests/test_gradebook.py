"""The SQLite gradebook: durable records, concurrent writers, resuming, and refusing files it does not own."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.assignment import find_solutions, load_assignment
from grader.digests import digest_file, digest_suite, read_digested, suite_paths
from grader.errors import InputError
from grader.gradebook import SCHEMA_VERSION, Gradebook, WrittenScore
from grader.model import Grade

from .conftest import REPO, TINY, TINY_SOLUTIONS
from .tiny_grades import class_of_two


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    return class_of_two(tmp_path_factory.mktemp("class"))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


# ------------------------------------------------------------------ storing and reading back


@pytest.mark.slow
def test_latest_round_trips_real_grades(tmp_path: Path, grades: dict[str, Grade]) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        for student, grade in grades.items():
            gb.record(student, "tiny", "sub-" + student, "suite", grade)
        latest = gb.latest("tiny")
        assert gb.assignments() == ["tiny"]
    assert latest == grades  # no written score entered: every WrittenAnswer.score stays None
    assert latest["bob"].score == pytest.approx(17 / 3, abs=1e-5)
    assert any(t.visibility == "hidden" and not t.passed for t in latest["bob"].tests)


@pytest.mark.slow
def test_latest_is_the_newest_record_per_student(tmp_path: Path, grades: dict[str, Grade]) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        gb.record("bob", "tiny", "v1", "suite", grades["bob"])
        gb.record("bob", "tiny", "v2", "suite", grades["alice"])  # bob resubmitted and got it right
        gb.record("bob", "other", "v1", "suite", grades["bob"])
        assert gb.latest("tiny")["bob"].score == 10 and gb.latest("other")["bob"].score < 10
        assert gb.latest("nothing") == {} and gb.assignments() == ["other", "tiny"]


@pytest.mark.slow
def test_written_scores_merge_into_latest(tmp_path: Path, grades: dict[str, Grade]) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        gb.record("alice", "tiny", "a", "s", grades["alice"])
        gb.set_written("alice", "tiny", "w1", 1.5, "clear, but no example")
        gb.set_written("alice", "tiny", "w1", 2.0, "regraded")  # replaces, does not add
        assert gb.latest("tiny")["alice"].written[0].score == 2.0
        assert gb.written_scores("tiny") == {"alice": {"w1": WrittenScore("alice", "tiny", "w1", 2.0, "regraded")}}


def test_written_scores_are_all_or_nothing(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        good, bad = WrittenScore("a", "tiny", "w1", 1), WrittenScore("b", "tiny", "w1", float("nan"))
        with pytest.raises(InputError, match="not a non-negative number"):
            gb.set_written_many([good, bad])
        assert gb.written_scores("tiny") == {}


def test_unicode_and_lone_surrogates_are_stored(tmp_path: Path) -> None:
    grade = Grade("tiny", "学生", (), warnings=("lone \ud800 surrogate", "梯度"))
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        gb.record("学生", "tiny", "d", "s", grade)
        assert gb.latest("tiny") == {"学生": grade}


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "gb.sqlite"
    Gradebook(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    Gradebook(path, create=False).close()  # reopening an existing gradebook is fine


# ------------------------------------------------------------------ resuming


def test_is_current_flips_when_the_submission_or_the_suite_changes(tmp_path: Path) -> None:
    submission = tmp_path / "alice.ipynb"
    submission.write_text('{"cells": []}')
    suite_dir = tmp_path / "suite"
    (suite_dir / "hidden_tests").mkdir(parents=True)
    (suite_dir / "hidden_tests" / "test_x.py").write_text("def test(): pass\n")
    suite = [TINY, suite_dir]
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        sub, st = digest_file(submission), digest_suite(suite)
        assert read_digested(submission) == (submission.read_bytes(), sub)  # grade reads once, same digest
        assert not gb.is_current("alice", "tiny", sub, st)  # never graded
        gb.record("alice", "tiny", sub, st, Grade("tiny", "alice", ()))
        assert gb.is_current("alice", "tiny", digest_file(submission), digest_suite(suite))
        assert not gb.is_current("bob", "tiny", sub, st) and not gb.is_current("alice", "other", sub, st)

        os.utime(submission, (0, 0))  # touched, same content: still current
        (suite_dir / "hidden_tests" / "__pycache__").mkdir()
        (suite_dir / "hidden_tests" / "__pycache__" / "test_x.cpython-311.pyc").write_bytes(b"junk")
        assert gb.is_current("alice", "tiny", digest_file(submission), digest_suite(suite))

        submission.write_text('{"cells": [1]}')
        assert not gb.is_current("alice", "tiny", digest_file(submission), st)

        (suite_dir / "hidden_tests" / "test_x.py").write_text("def test(): assert 0\n")
        assert not gb.is_current("alice", "tiny", sub, digest_suite(suite))


def test_suite_digest_sees_renames_and_new_files(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "test_a.py").write_text("x")
    before = digest_suite([tmp_path / "t"])
    (tmp_path / "t" / "test_a.py").rename(tmp_path / "t" / "test_b.py")
    renamed = digest_suite([tmp_path / "t"])
    (tmp_path / "t" / "test_c.py").write_text("")
    assert len({before, renamed, digest_suite([tmp_path / "t"])}) == 3
    assert digest_suite([TINY, TINY_SOLUTIONS / "tiny"]) == digest_suite([TINY, TINY_SOLUTIONS / "tiny"])


def test_suite_paths_cover_manifest_tests_and_reference(tmp_path: Path) -> None:
    assignment = load_assignment(TINY)
    public_only = suite_paths(assignment, None)
    with_hidden = suite_paths(assignment, find_solutions(TINY_SOLUTIONS, assignment))
    assert public_only == [TINY / "assignment.toml", TINY / "tests"]
    assert with_hidden[2:] == [TINY_SOLUTIONS / "tiny" / "solution.ipynb", TINY_SOLUTIONS / "tiny" / "hidden_tests"]
    assert digest_suite(public_only) != digest_suite(with_hidden)


def test_digest_of_an_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        digest_file(tmp_path / "nope.ipynb")
    with pytest.raises(InputError, match="cannot read"):
        read_digested(tmp_path / "nope.ipynb")


# ------------------------------------------------------------------ durability and concurrency

RECORD = """
import sys
from pathlib import Path
from grader.gradebook import Gradebook
from grader.model import Grade, QuestionResult
path, student, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with Gradebook(path) as gb:
    for i in range(n):
        gb.record(f"{student}-{i}", "tiny", f"d{i}", "s", Grade("tiny", student, (QuestionResult("q1", 1.0, 4.0),)))
        if n == 1:
            print("recorded", flush=True)
            sys.stdin.readline()  # hold still until killed
"""


@pytest.mark.slow
def test_a_record_survives_sigkill_right_after_record_returns(tmp_path: Path) -> None:
    path = tmp_path / "gb.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", RECORD, str(path), "alice", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=_env())
    assert proc.stdout is not None and proc.stdout.readline() == "recorded\n"
    proc.send_signal(signal.SIGKILL)  # no close, no checkpoint: the WAL holds the only copy
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Gradebook(path, create=False) as gb:
        grades = gb.latest("tiny")
    assert list(grades) == ["alice-0"] and grades["alice-0"].score == 1.0


LOOP = """
import signal, sys
from pathlib import Path
from grader.gradebook import Gradebook
from grader.model import Grade
signal.signal(signal.SIGINT, signal.default_int_handler)  # a job started in the background inherits SIGINT ignored
with Gradebook(Path(sys.argv[1])) as gb:
    for i in range(10**6):
        gb.record(f"s{i}", "tiny", "d", "s", Grade("tiny", "x", ()))
        print(i, flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupting_a_recording_loop_keeps_every_returned_record(tmp_path: Path, sig: signal.Signals) -> None:
    path = tmp_path / "gb.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", LOOP, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    assert proc.stdout is not None
    for _ in range(200):
        proc.stdout.readline()
    proc.send_signal(sig)  # mid-loop: possibly inside a transaction
    out, _ = proc.communicate(timeout=30)
    returned = 200 + len(out.split())
    with Gradebook(path, create=False) as gb:
        stored = len(gb.latest("tiny"))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert returned <= stored <= returned + 1  # at most the one in flight, committed before its print


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "gb.sqlite"  # not created yet: both processes race to create the schema too
    n, writers = 150, 3
    procs = [subprocess.Popen([sys.executable, "-c", RECORD, str(path), f"w{k}", str(n)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(writers)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Gradebook(path, create=False) as gb:
        students = gb.latest("tiny")
    assert len(students) == n * writers
    assert set(students) == {f"w{k}-{i}" for k in range(writers) for i in range(n)}


@pytest.mark.slow
def test_a_reader_is_not_blocked_by_an_open_write(tmp_path: Path, grades: dict[str, Grade]) -> None:
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as gb:
        gb.record("alice", "tiny", "a", "s", grades["alice"])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process mid-record, holding the write lock
    try:
        start = time.monotonic()
        with Gradebook(path, create=False) as reader:  # opening needs no write lock either
            assert list(reader.latest("tiny")) == ["alice"]
        assert time.monotonic() - start < 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# ------------------------------------------------------------------ files that are not gradebooks


@pytest.mark.parametrize("content", [b"this is not a database at all, just some text " * 100, b"\x00" * 4096,
                                     b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_non_sqlite_or_corrupt_file_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "gb.sqlite"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        Gradebook(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == content  # refused, not overwritten


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="SQLite database but not a gradebook"):
        Gradebook(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gb.sqlite"
    Gradebook(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="newer than this grader"):
        Gradebook(path)


def test_missing_file_or_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no gradebook at"):
        Gradebook(tmp_path / "nope.sqlite", create=False)
    assert not (tmp_path / "nope.sqlite").exists()
    with pytest.raises(InputError, match="is a folder"):
        Gradebook(tmp_path)
    with pytest.raises(InputError, match="cannot open gradebook"):
        Gradebook(tmp_path / "no" / "such" / "dir" / "gb.sqlite")

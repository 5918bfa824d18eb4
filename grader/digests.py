"""Content digests that tell whether a submission or a test suite changed since it was graded.

A digest is the sha256 of file contents, so renaming or touching a file does
not make a submission look new, and editing a hidden test does. A suite digest
covers every file under the given folders (and the given files), in sorted
relative-path order, with each path in the hash so that moving a test between
files counts as a change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from grader.assignment import MANIFEST, Assignment, Solutions
from grader.errors import InputError

_CHUNK = 1 << 20
# Files that change without the suite changing: bytecode and pytest's caches.
_IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}


def digest_file(path: Path) -> str:
    """The sha256 of a file's bytes, as hex; InputError if it cannot be read."""
    digest = hashlib.sha256()
    _feed(digest, path)
    return digest.hexdigest()


def read_digested(path: Path) -> tuple[bytes, str]:
    """A file's bytes and their sha256 (as :func:`digest_file` gives it), read once; InputError if unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return data, hashlib.sha256(data).hexdigest()


def digest_suite(paths: Iterable[Path]) -> str:
    """The sha256 over the files under ``paths`` (folders or files), with their relative paths.

    A path that does not exist counts as empty (a missing ``hidden_tests/``
    is a valid suite), but is still part of the digest, so adding it changes
    the digest.
    """
    digest = hashlib.sha256()
    for root in paths:
        digest.update(f"root\0{root.name}\0".encode())
        files = sorted(_files(root), key=lambda p: p.relative_to(root).as_posix()) if root.is_dir() else []
        if root.is_file():
            files = [root]
        for path in files:
            rel = path.relative_to(root).as_posix() if root.is_dir() else path.name
            digest.update(f"file\0{rel}\0{path.stat().st_size}\0".encode())
            _feed(digest, path)
    return digest.hexdigest()


def suite_paths(assignment: Assignment, solutions: Solutions | None) -> list[Path]:
    """What decides a grade besides the submission: the manifest, the tests and the reference solution.

    Pass the result to :func:`digest_suite`. The grader's own version is not
    part of it (upgrading the grader does not force a regrade); a caller that
    wants that can compare the ``grader_version`` the stored grade carries.
    """
    paths = [assignment.root / MANIFEST, assignment.public_tests]
    if solutions is not None:
        paths += [solutions.master, solutions.hidden_tests]
    return paths


def digest_code() -> str:
    """The sha256 of the grader's own source files: two processes grade alike only if theirs agree."""
    return digest_suite([Path(__file__).resolve().parent])


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not _IGNORED_PARTS & set(p.relative_to(root).parts)
            and p.suffix != ".pyc"]


def _feed(digest: hashlib._Hash, path: Path) -> None:
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None

"""Building an assignment's student folder from its master folder (``grader assign``).

The master folder is the single source of an assignment; the student folder
is built from it and never edited by hand::

    solutions/<name>/            the master folder (instructors only)
        solution.ipynb           master notebook: reference solutions, model answers, rubrics
        assignment.toml          the manifest (copied as is)
        tests/                   public tests, the manifest's ``tests`` (copied as is)
        hidden_tests/            never copied
    assignments/<name>/          the student folder (the build's default output)
        <notebook>               the manifest's ``notebook``: the master stripped by
                                 :mod:`grader.authoring`, its ``grader.assignment`` metadata set
        assignment.toml
        tests/

Building is split in two: :func:`build_student_folder` reads the master
folder, checks it and returns every output file as bytes, writing nothing;
:func:`write_build` puts them on disk. A refused build therefore leaves no
half-written folder.

What the build refuses (:class:`~grader.errors.InputError`): a missing or
invalid master; a solution region that does not open and close (the cell is
named); a manifest whose name is not the master folder's name (``--solutions``
would not find it) or differs from the master's ``grader.assignment``; a
manifest ``notebook`` that is not a plain file name, or a ``tests`` folder
that is not inside the master folder or overlaps ``hidden_tests/``; symbolic
links among the public tests; a public file with the same bytes as a hidden
file or as the master, and a public test function whose body is that of a
hidden test (a hidden test copied into the public ones). Public and hidden
files may share names (``tests/test_q1.py`` and ``hidden_tests/test_q1.py``).

Where the build may write (:func:`write_build`): a folder that does not
exist, an empty folder, or a previous build of the same assignment (it has an
``assignment.toml`` naming it). Files the build writes are replaced (edit the
master, not the student folder). A previous build holding other files (say a
public test since deleted from the master) is refused with their names,
unless ``prune`` is set, which removes them. Caches (``__pycache__``,
``.pytest_cache``, ``.ipynb_checkpoints``, ``*.pyc``) are ignored. The output
may neither contain nor lie inside the master folder.
"""

from __future__ import annotations

import ast
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from grader.assignment import MANIFEST, check_test_syntax, load_assignment
from grader.authoring import student_notebook
from grader.errors import InputError
from grader.notebook import read_notebook

MASTER_NAME = "solution.ipynb"
HIDDEN_TESTS = "hidden_tests"
SOLUTIONS_DIR = "solutions"
ASSIGNMENTS_DIR = "assignments"
CACHE_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ipynb_checkpoints"})
MAX_LISTED = 5


@dataclass(frozen=True)
class Build:
    """A student folder in memory: relative POSIX paths and their bytes."""

    name: str
    master: Path
    files: dict[str, bytes]

    @property
    def master_folder(self) -> Path:
        """The folder holding the master notebook, the manifest and the tests."""
        return self.master.parent


@dataclass(frozen=True)
class Written:
    """What :func:`write_build` did, as relative paths."""

    out: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def build_student_folder(master: Path) -> Build:
    """The student folder of the master notebook ``master`` (or of the master folder holding ``solution.ipynb``)."""
    if master.is_dir():
        master = master / MASTER_NAME
    if not master.is_file():
        raise InputError(f"no master notebook at {master}")
    folder = master.parent
    manifest_path = folder / MANIFEST
    manifest_bytes, manifest = _read_manifest(manifest_path)
    name = load_assignment(folder).name  # the grader's own reading: what it would refuse later is refused now
    if folder.resolve().name != name:
        raise InputError(f"{manifest_path} names {name!r} but the master folder is {folder.resolve().name!r}; "
                         f"they must match (--solutions DIR finds DIR/<name>/{MASTER_NAME})")
    notebook_name = _plain_name(manifest.get("notebook", "assignment.ipynb"), manifest_path)
    tests = _tests_folder(manifest.get("tests", "tests"), folder, manifest_path)

    files = {MANIFEST: manifest_bytes,
             notebook_name: _student_notebook_bytes(master, name)}
    check_test_syntax([folder / tests, folder / HIDDEN_TESTS])
    public = _public_files(folder / tests)
    _refuse_leaks(public, folder / tests, master)
    for rel, data in public.items():
        files[(PurePosixPath(tests) / rel).as_posix()] = data
    return Build(name=name, master=master, files=dict(sorted(files.items())))


def default_out(build: Build) -> Path:
    """``assignments/<name>`` beside the ``solutions/`` folder that holds the master folder."""
    folder = build.master_folder.resolve()
    if folder.parent.name != SOLUTIONS_DIR:
        raise InputError(f"{build.master} is not in {SOLUTIONS_DIR}/<name>/, so there is no default output; "
                         "pass --out DIR")
    return folder.parent.parent / ASSIGNMENTS_DIR / build.name


def write_build(build: Build, out: Path, prune: bool = False) -> Written:
    """Write ``build`` into ``out`` under the rule of the module's docstring."""
    _refuse_overlap(out, build.master_folder)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder")
    existing = _files(out) if out.is_dir() else []
    if out.is_dir() and any(out.iterdir()):
        _refuse_foreign(out, build.name)
    stray = sorted(set(existing) - set(build.files))
    if stray and not prune:
        listed = ", ".join(stray[:MAX_LISTED]) + (f" and {len(stray) - MAX_LISTED} more" if len(stray) > MAX_LISTED
                                                   else "")
        raise InputError(f"{out} holds files the build does not write: {listed}; "
                         "remove them or pass --prune to remove them")
    done = Written(out)
    try:
        for rel, data in build.files.items():
            target = out / rel
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                done.unchanged.append(rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.grader-tmp")
            temporary.write_bytes(data)
            os.replace(temporary, target)  # replaces a symbolic link instead of writing through it
            done.written.append(rel)
        for rel in stray:
            (out / rel).unlink()
            done.removed.append(rel)
            _remove_empty_parents(out / rel, out)
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    return done


def _read_manifest(path: Path) -> tuple[bytes, dict[str, object]]:
    try:
        data = path.read_bytes()
    except OSError:
        raise InputError(f"no manifest at {path}: the master folder holds {MANIFEST}, copied to the "
                         "student folder") from None
    try:
        return data, tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from None


def _plain_name(value: object, manifest: Path) -> str:
    if (not isinstance(value, str) or not value.endswith(".ipynb") or "/" in value or "\\" in value
            or value.startswith(".")):
        raise InputError(f"{manifest}: 'notebook' must be a file name ending in .ipynb, not {value!r}")
    return value


def _tests_folder(value: object, folder: Path, manifest: Path) -> str:
    """The manifest's ``tests`` as a relative POSIX path inside the master folder, away from hidden_tests/."""
    path = PurePosixPath(value) if isinstance(value, str) else None
    if path is None or path.is_absolute() or ".." in path.parts or str(path) in {"", "."}:
        raise InputError(f"{manifest}: 'tests' must be a folder inside the master folder, not {value!r}")
    hidden = PurePosixPath(HIDDEN_TESTS)
    if path == hidden or hidden in path.parents or path in hidden.parents:
        raise InputError(f"{manifest}: 'tests' = {value!r} overlaps {HIDDEN_TESTS}/, which is never copied")
    if not (folder / path).is_dir():
        raise InputError(f"no public tests at {folder / path} (the manifest's 'tests')")
    return path.as_posix()


def _student_notebook_bytes(master: Path, name: str) -> bytes:
    node = read_notebook(master).node
    meta = node["metadata"].get("grader", {})
    if not isinstance(meta, dict):
        raise InputError(f"{master}: the metadata 'grader' must be a mapping")
    declared = meta.get("assignment", name)
    if declared != name:
        raise InputError(f"{master} says it is assignment {declared!r} but its manifest names {name!r}")
    nb = student_notebook(node)  # type: ignore[arg-type]
    nb.metadata["grader"] = {**meta, "assignment": name}
    # nbformat's own layout (sorted keys, one-space indent) plus a final newline, as Jupyter saves it
    text: str = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    return (text + "\n").encode("utf-8")


def _files(root: Path) -> list[str]:
    """Relative POSIX paths of the files (and links) under ``root``, caches left out."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if CACHE_PARTS & set(rel.parts) or path.suffix == ".pyc" or (path.is_dir() and not path.is_symlink()):
            continue
        found.append(rel.as_posix())
    return sorted(found)


def _public_files(tests: Path) -> dict[str, bytes]:
    files = {}
    for rel in _files(tests):
        path = tests / rel
        if path.is_symlink():
            raise InputError(f"{path} is a symbolic link; public tests must be plain files")
        try:
            files[rel] = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return files


def _refuse_leaks(public: dict[str, bytes], tests: Path, master: Path) -> None:
    """Refuse public files that are hidden files or the master, and public tests that are hidden tests."""
    hidden_root = master.parent / HIDDEN_TESTS
    hidden = {rel: (hidden_root / rel).read_bytes() for rel in (_files(hidden_root) if hidden_root.is_dir() else [])
              if (hidden_root / rel).is_file()}
    secret = {data: f"{HIDDEN_TESTS}/{rel}" for rel, data in hidden.items() if data.strip()}
    secret[master.read_bytes()] = master.name
    hidden_bodies = {body: f"{HIDDEN_TESTS}/{rel}::{test}" for rel, data in hidden.items() if rel.endswith(".py")
                     for test, body in _test_bodies(data, hidden_root / rel).items()}
    for rel, data in public.items():
        if data in secret:
            raise InputError(f"public test file {rel} is a copy of {secret[data]}; it would be shipped to students")
        if rel.endswith(".py"):
            for test, body in _test_bodies(data, tests / rel).items():
                if body in hidden_bodies:
                    raise InputError(f"public test {rel}::{test} is the hidden test {hidden_bodies[body]}; "
                                     "it would be shipped to students")


def _test_bodies(source: bytes, path: Path) -> dict[str, str]:
    """The test functions of a test module and their bodies, as AST dumps (formatting and decorators ignored)."""
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"cannot parse {path}: {exc}") from None
    return {node.name: ast.dump(ast.Module(body=node.body, type_ignores=[]))
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")}


def _refuse_overlap(out: Path, master_folder: Path) -> None:
    out_real, master_real = out.resolve(), master_folder.resolve()
    if out_real == master_real or master_real in out_real.parents or out_real in master_real.parents:
        raise InputError(f"--out {out} overlaps the master folder {master_folder}; choose another folder")


def _refuse_foreign(out: Path, name: str) -> None:
    """Refuse a non-empty ``out`` that is not a previous build of assignment ``name``."""
    try:
        previous = tomllib.loads((out / MANIFEST).read_text(encoding="utf-8")).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        previous = None
    if previous != name:
        raise InputError(f"{out} is not empty and not a previous build of {name!r} (no {MANIFEST} naming it); "
                         "choose an empty or new folder")


def _remove_empty_parents(path: Path, out: Path) -> None:
    parent = path.parent
    while parent != out and out in parent.parents and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent

"""Finding the submissions of a class: notebooks, folders of them, zip files of them.

Student ids come from names, as nbgrader and otter lay submissions out:

- ``alice.ipynb`` given directly or inside a given folder: ``alice``;
- a notebook in a sub-folder of a given folder (``submitted/alice/.../x.ipynb``):
  the sub-folder's name, ``alice``;
- a zip file is unpacked into a folder of the output and read as a folder;
  a zip holding one notebook is that of the zip's name (``alice.zip``).

Checkpoints and hidden folders are skipped. What names no submission (a path
that does not exist, a file that is neither a notebook, a folder nor a zip)
is an error before anything is graded: a typo in the command. What is wrong
with one student's submission is that student's alone, reported and not
graded, and the others are graded: two notebooks for one student (which one
would count?), a zip that cannot be unpacked or holds no notebook. A notebook
that is a symbolic link is never read (it could point at the reference); it
is reported when the student has no other.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.errors import InputError

MAX_UNZIPPED = 512 * 2**20  # bytes unpacked from one zip file


@dataclass(frozen=True)
class Submission:
    """One student's notebook."""

    student: str
    path: Path


@dataclass(frozen=True)
class Unusable:
    """A student's submission that cannot be graded as it is, and why."""

    student: str
    why: str


@dataclass(frozen=True)
class Found:
    """What the arguments hold: the submissions and the unusable ones, each sorted by student."""

    submissions: list[Submission]
    unusable: list[Unusable]


def find_submissions(arguments: list[Path], unpack_to: Path) -> Found:
    """The submissions under ``arguments``; InputError on an argument that names none.

    Zips, given or found in a folder, are unpacked afresh under ``unpack_to``,
    and what is already there is no submission (an output folder inside the
    submissions' folder).
    """
    reader = _Reader(unpack_to)
    for arg in arguments:
        if not arg.exists():
            raise InputError(f"no such file or folder: {arg}")
        if arg.is_dir():
            reader.folder(arg)
        elif arg.suffix == ".zip":
            reader.zip(arg, _student_id(arg.stem), in_student_folder=False)
        elif arg.suffix == ".ipynb":
            reader.found.append(Submission(_student_id(arg.stem), arg))
        else:
            raise InputError(f"not a notebook, folder or zip file: {arg}")
    return reader.result()


class _Reader:
    """Collects submissions and unusable ones as the arguments are read."""

    def __init__(self, unpack_to: Path, outer: bool = True) -> None:
        self.unpack_to = unpack_to
        self.outer = outer  # reading the arguments, not a zip's contents (where zips are not opened again)
        self.unpacked = unpack_to.resolve()
        self.found: list[Submission] = []
        self.unusable: list[Unusable] = []
        self.targets: set[Path] = set()

    def folder(self, folder: Path) -> None:
        """Notebooks and zips in ``folder``: a sub-folder's name is the student's, else the file's."""
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if (path.suffix not in (".ipynb", ".zip") or (self.outer and path.resolve().is_relative_to(self.unpacked))
                    or any(part.startswith(".") or part == ".ipynb_checkpoints" for part in rel.parts)):
                continue
            student = _student_id(rel.parts[0] if len(rel.parts) > 1 else path.stem)
            if path.suffix == ".zip" and path.is_file() and self.outer:
                self.zip(path, student, in_student_folder=len(rel.parts) > 1)
            elif path.suffix == ".ipynb":
                self.found.append(Submission(student, path))

    def zip(self, archive: Path, student: str, in_student_folder: bool) -> None:
        """A zip's notebooks: one is the student's; several are a class's (by folder) or, in a student's folder,
        that student's (who then has several)."""
        target = self.unpack_to / archive.stem
        while target in self.targets:
            target = target.with_name(target.name + "+")
        self.targets.add(target)
        try:
            _unzip(archive, target)
        except InputError as error:
            self.unusable.append(Unusable(student, str(error)))
            return
        inside = _Reader(self.unpack_to, outer=False)
        inside.folder(target)
        notebooks = inside.found
        if not notebooks:
            self.unusable.append(Unusable(student, f"{archive} holds no notebook"))
        elif len(notebooks) == 1 or in_student_folder:
            self.found += [Submission(student, sub.path) for sub in notebooks]
        else:
            self.found += notebooks

    def result(self) -> Found:
        by_student: dict[str, list[Submission]] = {}
        links: dict[str, Path] = {}
        unusable = list(self.unusable)
        for sub in self.found:
            if sub.path.is_symlink():  # to the reference, say: a cloned repository may hold links
                links.setdefault(sub.student, sub.path)
            else:
                by_student.setdefault(sub.student, []).append(sub)
        for student, path in links.items():
            if student not in by_student:
                unusable.append(Unusable(student, f"{path} is a symbolic link, not a notebook of its own"))
        for student, subs in by_student.items():
            if len(subs) > 1:
                paths = " and ".join(str(sub.path) for sub in subs)
                unusable.append(Unusable(student, f"{len(subs)} notebooks, {paths}: keep one"))
        return Found([subs[0] for _, subs in sorted(by_student.items()) if len(subs) == 1],
                     sorted(unusable, key=lambda u: u.student))


def _student_id(name: str) -> str:
    """A file name as a student id: names that are not UTF-8 (an old unzip's Latin-1) read as Latin-1."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("latin-1")
    return name


def _unzip(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target``, afresh, refusing paths that leave it and zip bombs."""
    shutil.rmtree(target, ignore_errors=True)  # a resubmitted zip's old files must not stay
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise InputError(f"{archive} unpacks to more than {MAX_UNZIPPED // 2**20} MiB")
            for member in members:
                name = PurePosixPath(member.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise InputError(f"{archive} holds a path outside itself: {member.filename}")
            zf.extractall(target)
    except Exception as error:  # a zip made by anyone fails in many ways: encrypted, Deflate64, names
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(error, InputError):
            raise
        raise InputError(f"cannot unpack {archive}: {type(error).__name__}: {error}") from None
    return target

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
    """The submissions under ``arguments``; InputError on an argument that names none."""
    found: list[Submission] = []
    unusable: list[Unusable] = []
    for arg in arguments:
        if not arg.exists():
            raise InputError(f"no such file or folder: {arg}")
        if arg.is_dir():
            found += _in_folder(arg)
        elif arg.suffix == ".zip":
            try:
                inside = _in_folder(_unzip(arg, unpack_to / arg.stem))
            except InputError as error:
                unusable.append(Unusable(arg.stem, str(error)))
                continue
            if not inside:
                unusable.append(Unusable(arg.stem, f"{arg} holds no notebook"))
            found += [Submission(arg.stem, inside[0].path)] if len(inside) == 1 else inside
        elif arg.suffix == ".ipynb":
            found.append(Submission(arg.stem, arg))
        else:
            raise InputError(f"not a notebook, folder or zip file: {arg}")
    by_student: dict[str, list[Submission]] = {}
    links: dict[str, Path] = {}
    for sub in found:
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


def _in_folder(folder: Path) -> list[Submission]:
    subs = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == ".ipynb_checkpoints" for part in rel.parts):
            continue
        subs.append(Submission(rel.parts[0] if len(rel.parts) > 1 else path.stem, path))
    return subs


def _unzip(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target`` (once), refusing paths that leave it and zip bombs."""
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
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"cannot unpack {archive}: {error}") from None
    return target

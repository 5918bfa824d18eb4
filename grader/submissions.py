"""Finding the submissions of a class: notebooks, folders of them, zip files of them.

Student ids come from names, as nbgrader and otter lay submissions out:

- ``alice.ipynb`` given directly or inside a given folder: ``alice``;
- a notebook in a sub-folder of a given folder (``submitted/alice/.../x.ipynb``):
  the sub-folder's name, ``alice``;
- a zip file is unpacked into a folder of the output and read as a folder;
  a zip holding one notebook is that of the zip's name (``alice.zip``).

Checkpoints and hidden folders are skipped. Two notebooks for one student are
an error before anything is graded (which one would count?).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.errors import InputError

MAX_UNZIPPED = 512 * 2**20  # bytes unpacked from all zip files together


@dataclass(frozen=True)
class Submission:
    """One student's notebook."""

    student: str
    path: Path


def find_submissions(arguments: list[Path], unpack_to: Path) -> list[Submission]:
    """The submissions under ``arguments``, sorted by student; InputError on a bad argument or clash."""
    found: list[Submission] = []
    for arg in arguments:
        if not arg.exists():
            raise InputError(f"no such file or folder: {arg}")
        if arg.is_dir():
            found += _in_folder(arg)
        elif arg.suffix == ".zip":
            folder = _unzip(arg, unpack_to / arg.stem)
            inside = _in_folder(folder)
            found += [Submission(arg.stem, inside[0].path)] if len(inside) == 1 else inside
        elif arg.suffix == ".ipynb":
            found.append(Submission(arg.stem, arg))
        else:
            raise InputError(f"not a notebook, folder or zip file: {arg}")
    by_student: dict[str, Submission] = {}
    for sub in found:
        if sub.student in by_student:
            other = by_student[sub.student].path
            raise InputError(f"two notebooks for student {sub.student!r}: {other} and {sub.path}")
        by_student[sub.student] = sub
    return [by_student[s] for s in sorted(by_student)]


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

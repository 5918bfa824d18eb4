"""A wheel of the running grader, built byte for byte the same every time.

The Gradescope autograder (:mod:`grader.gradescope_zip`) installs the very
grader that built it, so the wheel is made from the imported package's files
rather than from a source tree that may be absent (a non-editable install) or
ahead of what runs. A pure-Python wheel is a zip with a ``.dist-info``
folder (PEP 427, PEP 376's RECORD); writing it here needs no build backend,
no network and no temporary files, and fixed timestamps and sorted entries make
it reproducible, which a setuptools build is not without extra settings.

The metadata comes from ``pyproject.toml`` beside the package when there is
one (a clone, an editable install), else from the installed distribution.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import grader
from grader.errors import InputError

DIST_NAME = "grader"
# Zip's earliest date: the same bytes whenever and wherever the wheel is built.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_SKIPPED_PARTS = {"__pycache__"}


@dataclass(frozen=True)
class Wheel:
    """A built wheel: its file name (``grader-<version>-py3-none-any.whl``), bytes and runtime requirements."""

    filename: str
    data: bytes
    requires: tuple[str, ...]


def zip_info(name: str, executable: bool = False) -> zipfile.ZipInfo:
    """A zip entry with a fixed date and Unix permissions (0755 or 0644), so archives are reproducible."""
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.create_system = 3  # Unix: the permissions below are honoured by unzip
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def package_files(package: Path) -> list[tuple[str, bytes]]:
    """The package's files as (path in the wheel, bytes), sorted; bytecode and caches left out."""
    files = []
    for path in package.rglob("*"):
        rel = path.relative_to(package)
        if path.is_file() and not _SKIPPED_PARTS & set(rel.parts) and path.suffix not in (".pyc", ".pyo"):
            files.append((f"{package.name}/{rel.as_posix()}", path.read_bytes()))
    return sorted(files)


def build_wheel(package: Path | None = None) -> Wheel:
    """The running grader (or the ``grader`` package folder ``package``) as a wheel."""
    package = package or Path(grader.__file__).resolve().parent
    metadata, entry_points, requires = _metadata(package)
    version = grader.__version__
    dist_info = f"{DIST_NAME}-{version}.dist-info"
    files = package_files(package)
    files += [
        (f"{dist_info}/METADATA", metadata.encode()),
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: grader.wheel\nRoot-Is-Purelib: true\n"
                               b"Tag: py3-none-any\n"),
        (f"{dist_info}/entry_points.txt", entry_points.encode()),
        (f"{dist_info}/top_level.txt", b"grader\n"),
    ]
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data in files)
    files.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            archive.writestr(zip_info(name), data)
    return Wheel(f"{DIST_NAME}-{version}-py3-none-any.whl", buffer.getvalue(), requires)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _metadata(package: Path) -> tuple[str, str, tuple[str, ...]]:
    """METADATA, entry_points.txt and the runtime requirements, from pyproject.toml or the installed dist."""
    pyproject = package.parent / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == DIST_NAME:
            return _from_pyproject(project)
    try:
        dist = importlib.metadata.distribution(DIST_NAME)
    except importlib.metadata.PackageNotFoundError:
        raise InputError(f"cannot build a wheel of the grader: no pyproject.toml beside {package} "
                         "and no installed distribution") from None
    requires = tuple(r for r in dist.requires or () if "extra ==" not in r)
    return dist.read_text("METADATA") or "", dist.read_text("entry_points.txt") or "", requires


def _from_pyproject(project: dict[str, object]) -> tuple[str, str, tuple[str, ...]]:
    requires = tuple(str(r) for r in _strings(project.get("dependencies")))
    lines = ["Metadata-Version: 2.1", f"Name: {DIST_NAME}", f"Version: {grader.__version__}"]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {r}" for r in requires]
    extras = project.get("optional-dependencies")
    for extra, reqs in sorted(extras.items()) if isinstance(extras, dict) else ():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in _strings(reqs)]
    scripts = project.get("scripts")
    entry_points = "[console_scripts]\n" + "".join(
        f"{name} = {target}\n" for name, target in sorted(scripts.items())) if isinstance(scripts, dict) else ""
    return "\n".join(lines) + "\n", entry_points, requires


def _strings(value: object) -> Iterable[str]:
    return [str(v) for v in value] if isinstance(value, list) else []

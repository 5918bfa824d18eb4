"""Resource and time limits for one submission's worker.

Plain data, set per assignment in its manifest (``[limits]``) and overridable
on the command line; the sandbox applies them and reports by name which one a
submission hit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from grader.errors import InputError

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([KMGT]i?B?|B)?\s*\Z", re.IGNORECASE)
_LARGEST = 2**62  # any limit beyond is a typo (and overflows the rlimit calls)
# Below these nothing can run: the worker's Python with torch takes about 200 MiB before the first cell.
_FLOORS = {"memory": 256 * 2**20}
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes in bytes, times in seconds."""

    cell_timeout: float = 60.0
    call_timeout: float = 10.0
    total_timeout: float = 300.0  # the cells and every call of one grading together
    tests_cpu_time: float = 120.0  # the grader's own CPU time running one grading's tests
    interrupt_grace: float = 2.0
    memory: int = 2 * 2**30
    cpu_time: int = 600
    file_size: int = 64 * 2**20
    disk: int = 256 * 2**20  # all files in the working directory together (a tmpfs in the jail)
    open_files: int = 256
    processes: int = 64
    output: int = 10 * 2**20

    def to_env(self) -> dict[str, str]:
        """The limits the worker applies to itself, as environment variables."""
        return {
            "GRADER_LIMIT_MEMORY": str(self.memory),
            "GRADER_LIMIT_CPU_TIME": str(self.cpu_time),
            "GRADER_LIMIT_FILE_SIZE": str(self.file_size),
            "GRADER_LIMIT_DISK": str(self.disk),
            "GRADER_LIMIT_OPEN_FILES": str(self.open_files),
            "GRADER_LIMIT_PROCESSES": str(self.processes),
            "GRADER_LIMIT_OUTPUT": str(self.output),
        }

    def updated(self, values: Mapping[str, Any]) -> Limits:
        """These limits with some replaced, from manifest or command-line values."""
        known = {f.name: f.type for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise InputError(f"unknown limit {key!r} (known: {', '.join(sorted(known))})")
            changes[key] = _parse(key, value, "float" in str(known[key]))
        return replace(self, **changes)

    def explain(self, ename: str, evalue: str) -> str:
        """Which limit an error from the submission's code points to, as a clause to append ("" if none).

        The kernel reports a hit limit as an ordinary error in the student's
        process (MemoryError, EFBIG, EMFILE, EAGAIN from fork); saying which
        limit it was is the difference between a puzzle and a hint.
        """
        if ename == "MemoryError":
            return f" (the memory limit is {format_size(self.memory)})"
        if "File too large" in evalue or "[Errno 27]" in evalue:
            return f" (the file size limit is {format_size(self.file_size)})"
        if "No space left on device" in evalue or "[Errno 28]" in evalue:
            return f" (the disk limit is {format_size(self.disk)}, all files together)"
        if "Too many open files" in evalue or "[Errno 24]" in evalue:
            return f" (the open files limit is {self.open_files})"
        if ename == "BlockingIOError" or "[Errno 11]" in evalue:
            return f" (the process limit is {self.processes}, threads included)"
        return ""


def format_size(n: int) -> str:
    """A byte count for people: '2 GiB', '64 MiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def _parse(key: str, value: Any, is_float: bool) -> float | int:
    if isinstance(value, bool):
        raise InputError(f"limit {key!r} must be a number, not {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and (m := _SIZE.match(value)):
        number = float(m.group(1)) * _UNITS[(m.group(2) or "").upper()[:1]]
    else:
        raise InputError(f"limit {key!r} must be a number or a size such as '2GiB', not {value!r}")
    if not number > 0:
        raise InputError(f"limit {key!r} must be positive, not {value!r}")
    if not number < _LARGEST:
        raise InputError(f"limit {key!r} is too large: {value!r}")
    if not is_float and int(number) < 1:
        raise InputError(f"limit {key!r} must be at least 1, not {value!r}")
    if number < _FLOORS.get(key, 0):
        raise InputError(f"limit {key!r} must be at least {format_size(_FLOORS[key])}, not {value!r}: "
                         "the worker's Python and torch alone take about 200 MiB")
    return number if is_float else int(number)

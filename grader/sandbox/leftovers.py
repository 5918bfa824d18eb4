"""What a grader killed outright left behind, removed by the next one.

Ctrl-C and SIGTERM unwind: the worker is stopped, its folder and control
groups removed. SIGKILL and the OOM killer do not unwind. The worker dies with
its grader (its parent-death signal), but its folder in the temporary
directory and its control groups stay, one set per submission being graded.

Every folder and group a grader process makes is named after that process,
its pid and PID namespace (:func:`~grader.sandbox.cgroups.owner_tag`):
``grader-worker-<pid>-<ns>-...``, ``grader-zygote-...`` and ``grader-task-...``
in the temporary directory, and ``grader-worker-<pid>-<ns>-...`` groups under
the grader's own group. A command that starts workers first removes those of
its own namespace whose process is gone (never a living one's: a pid that
still exists, reused or not, keeps its leftovers until it ends; nor those of
a container sharing the temporary directory, whose pids mean other
processes here). A group's remaining tasks are killed first, since a group
must be empty to go. A folder something is mounted under is left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader.sandbox.cgroups import CGROUP_ROOT, WorkerCgroups, group_parents, owner_tag, pid_namespace

_FOLDER = re.compile(r"grader-(?:worker|zygote|task)-(\d+)-(\d+)-")
_GROUP = re.compile(r"grader-worker-(\d+)-(\d+)-")
_OCTAL = re.compile(r"\\([0-7]{3})")


def folder_prefix(kind: str) -> str:
    """The name a folder of this process starts with, for ``tempfile.mkdtemp``: ``grader-<kind>-<pid>-<ns>-``."""
    return f"grader-{kind}-{owner_tag()}-"


def remove_leftovers(temp: Path | None = None, cgroup_root: Path = CGROUP_ROOT) -> list[Path]:
    """Remove the folders and groups of grader processes that are gone; the paths removed."""
    temp = Path(tempfile.gettempdir()) if temp is None else temp
    removed = []
    mounts = _mount_points()
    for path in _named(temp, _FOLDER):
        if not any(m == path or path in m.parents for m in mounts):
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    for hierarchy, parent in group_parents(cgroup_root).items():
        for path in _named(parent, _GROUP):
            WorkerCgroups({hierarchy: path}).remove(timeout=1.0)
            if not path.exists():
                removed.append(path)
    return removed


def _named(folder: Path, pattern: re.Pattern[str]) -> Iterator[Path]:
    """The directories in ``folder`` whose name matches ``pattern`` and whose process, in our namespace, is gone."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    namespace = str(pid_namespace())
    for entry in entries:
        match = pattern.match(entry.name)
        with contextlib.suppress(OSError):
            if (match and match.group(2) == namespace and entry.is_dir(follow_symlinks=False)
                    and _gone(int(match.group(1)))):
                yield Path(entry.path)


def _gone(pid: int) -> bool:
    """Whether no process has this pid (one of another user's counts as present; on Windows, every one)."""
    if pid == os.getpid() or sys.platform == "win32":  # os.kill there would end the process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _mount_points() -> list[Path]:
    """What is mounted where in this process's view (``/proc/self/mountinfo``); none where it cannot tell."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    # The fifth field is the mount point, with spaces and the like as octal escapes (\040).
    fields = [line.split() for line in lines]
    return [Path(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), f[4])) for f in fields if len(f) > 4]

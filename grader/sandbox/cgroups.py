"""Per-worker control groups, created and removed by the grader (Linux, standard library only).

A worker gets its own group in the cgroup v1 ``memory`` and ``pids``
hierarchies (limits that hold for root too, unlike RLIMIT_NPROC) and in the
v2 ``unified`` hierarchy (whose ``cgroup.kill`` stops a whole tree at once,
``setsid`` escapees included). Each group is created under the grader's own
group of that hierarchy, so the limits of whoever runs the grader still apply.
The worker joins the groups itself at start (it writes its pid into the
``cgroup.procs`` files it is given) before any student code runs. Where the
hierarchies are absent or not writable (a laptop, a non-root user) nothing is
created and the worker falls back to rlimits.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# The hierarchies a worker gets a group in, as named under CGROUP_ROOT.
HIERARCHIES = ("memory", "pids", "unified")
# The worker's runtime threads and its outer waiter count as tasks too.
RUNTIME_TASKS = 16


@dataclass
class WorkerCgroups:
    """The groups of one worker, by hierarchy: ``memory``, ``pids``, ``unified``."""

    groups: dict[str, Path] = field(default_factory=dict)

    def procs_files(self) -> dict[str, str]:
        """The ``cgroup.procs`` file of each group, for the worker to join."""
        return {name: str(path / "cgroup.procs") for name, path in self.groups.items()}

    def memory_limit_hit(self) -> bool:
        """Whether the kernel's OOM killer killed a task of the memory group."""
        path = self.groups.get("memory")
        if path is None:
            return False
        try:
            text = (path / "memory.oom_control").read_text()
        except OSError:
            return False
        counters = dict(line.split(maxsplit=1) for line in text.splitlines() if " " in line)
        return counters.get("oom_kill", "0").strip() not in ("", "0")

    def members(self) -> list[int]:
        """The processes in any of the groups."""
        pids: set[int] = set()
        for path in self.groups.values():
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(line) for line in (path / "cgroup.procs").read_text().split())
        return sorted(pids)

    def kill(self) -> None:
        """Kill every process in the groups: ``cgroup.kill`` where present, else one by one."""
        unified = self.groups.get("unified")
        if unified is not None:
            with contextlib.suppress(OSError):
                (unified / "cgroup.kill").write_text("1")
        for pid in self.members():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def remove(self, timeout: float = 5.0) -> None:
        """Kill what is left and remove the groups (they must be empty first)."""
        deadline = time.monotonic() + timeout
        while self.members() and time.monotonic() < deadline:
            self.kill()
            time.sleep(0.01)
        for path in self.groups.values():
            with contextlib.suppress(OSError):
                path.rmdir()
        self.groups = {}


def create_worker_cgroups(memory: int, processes: int, root: Path = CGROUP_ROOT) -> WorkerCgroups:
    """Create the groups this machine allows, with the limits set; possibly none."""
    name = f"grader-worker-{owner_tag()}-{secrets.token_hex(4)}"
    cgroups = WorkerCgroups()
    settings = {
        "memory": [("memory.limit_in_bytes", memory), ("memory.memsw.limit_in_bytes", memory)],
        "pids": [("pids.max", processes + RUNTIME_TASKS)],
        "unified": [],
    }
    for hierarchy, parent in group_parents(root).items():
        values = settings[hierarchy]
        path = parent / name
        try:
            path.mkdir()
        except OSError:
            continue
        try:
            for index, (filename, value) in enumerate(values):
                if index == 0 or (path / filename).exists():
                    (path / filename).write_text(str(value))
        except OSError:
            # The memsw limit is optional (swap accounting may be off); anything else is a failure.
            if not values or values[0][0] != "memory.limit_in_bytes" or not _limit_is(path, memory):
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
        if hierarchy == "unified" and not (path / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                path.rmdir()
            continue
        cgroups.groups[hierarchy] = path
    return cgroups


def owner_tag() -> str:
    """``<pid>-<PID namespace>`` of this process, which the names of its workers' folders and groups carry.

    The namespace (its inode, 0 where there is none to read) tells whether
    a pid in a name can be looked up from here (:mod:`grader.sandbox.leftovers`).
    """
    return f"{os.getpid()}-{pid_namespace()}"


def pid_namespace() -> int:
    """This process's PID namespace (the inode of ``/proc/self/ns/pid``), 0 where there is none to read."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _limit_is(path: Path, memory: int) -> bool:
    try:
        return int((path / "memory.limit_in_bytes").read_text()) <= memory
    except (OSError, ValueError):
        return False


def group_parents(root: Path = CGROUP_ROOT) -> dict[str, Path]:
    """Where workers' groups go: this process's own group in each hierarchy of :data:`HIERARCHIES` present here."""
    if not root.is_dir():
        return {}
    own = _own_groups()
    parents = {}
    for hierarchy in HIERARCHIES:
        key = "" if hierarchy == "unified" else hierarchy
        if key in own and (root / hierarchy / "cgroup.procs").exists():
            parents[hierarchy] = root / hierarchy / own[key].lstrip("/")
    return parents


def _own_groups() -> dict[str, str]:
    """This process's group in each hierarchy: controller name ('' for v2) to path."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    groups: dict[str, str] = {}
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                groups[controller] = parts[2]
    return groups

"""Limits the worker process puts on itself before any student code runs.

Resource limits (rlimits) are inherited by everything the student's code
starts. They are the portable layer; issue-level sandboxing (namespaces,
cgroups, seccomp) adds to them where the platform allows.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping

# Address space for the Python runtime, torch and its libraries on top of the
# memory the student may use (torch alone maps about 700 MiB; see
# SANDBOX-NOTES.md). RLIMIT_AS is only a backstop for real memory limits.
RUNTIME_ADDRESS_SPACE = 2 * 2**30
# With a memory control group enforcing the real limit, the address-space limit
# is only a backstop and must not fire first (an allocation is mapped whole).
BACKSTOP_ADDRESS_SPACE = 4 * 2**30


def apply_limits(env: Mapping[str, str], cgroup_memory: bool = False) -> list[str]:
    """Apply the GRADER_LIMIT_* limits to this process; return the layers applied."""
    if sys.platform == "win32":
        return ["process"]
    import resource

    def setlimit(which: int, value: int) -> None:
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))

    layers = ["process", "process-group"]
    memory = int(env.get("GRADER_LIMIT_MEMORY", 2 * 2**30))
    if sys.platform.startswith("linux"):
        setlimit(resource.RLIMIT_AS, memory + (BACKSTOP_ADDRESS_SPACE if cgroup_memory else RUNTIME_ADDRESS_SPACE))
        layers.append("rlimit-as")
    # One more second of hard CPU time would let SIGXCPU be caught; equal limits kill.
    setlimit(resource.RLIMIT_CPU, int(env.get("GRADER_LIMIT_CPU_TIME", 600)))
    setlimit(resource.RLIMIT_FSIZE, int(env.get("GRADER_LIMIT_FILE_SIZE", 64 * 2**20)))
    setlimit(resource.RLIMIT_NOFILE, int(env.get("GRADER_LIMIT_OPEN_FILES", 256)))
    setlimit(resource.RLIMIT_CORE, 0)
    layers += ["rlimit-cpu", "rlimit-fsize", "rlimit-nofile"]
    # Over-large writes fail with EFBIG instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # The time limits interrupt with SIGINT: a grader started in the background
    # by a shell passes SIGINT down ignored, so install Python's handler anew.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(resource, "RLIMIT_NPROC") and os.geteuid() != 0:
        # RLIMIT_NPROC counts every thread of this uid, so allow what runs already.
        setlimit(resource.RLIMIT_NPROC, _processes_of_uid() + int(env.get("GRADER_LIMIT_PROCESSES", 64)))
        layers.append("rlimit-nproc")
    return layers


def _processes_of_uid() -> int:
    uid, count = os.getuid(), 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 1024
    for name in names:
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))  # threads count too
            except OSError:
                pass
    return count

"""Per-worker control groups with real processes: limits that hold for root, kill, removal, fallback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.sandbox.cgroups import RUNTIME_TASKS, WorkerCgroups, create_worker_cgroups

MiB = 2**20


@pytest.fixture
def cgroups() -> Iterator[WorkerCgroups]:
    groups = create_worker_cgroups(memory=128 * MiB, processes=8)
    if not groups.groups:
        if os.geteuid() == 0 and Path("/sys/fs/cgroup/memory").is_dir():
            pytest.fail("running as root with cgroup v1 mounted, yet no group could be created")
        pytest.skip("no writable cgroup hierarchy here")
    yield groups
    groups.remove()


def joined(cgroups: WorkerCgroups, code: str) -> subprocess.Popen[str]:
    """A Python child that joins the groups first, then runs ``code``."""
    join = "".join(f"open({path!r}, 'w').write(str(__import__('os').getpid()))\n"
                   for path in cgroups.procs_files().values())
    return subprocess.Popen([sys.executable, "-c", join + code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_limits_are_written(cgroups: WorkerCgroups) -> None:
    memory = cgroups.groups.get("memory")
    if memory is not None:
        assert int((memory / "memory.limit_in_bytes").read_text()) == 128 * MiB
    pids = cgroups.groups.get("pids")
    if pids is not None:
        assert int((pids / "pids.max").read_text()) == 8 + RUNTIME_TASKS


@pytest.mark.slow
def test_memory_limit_kills_and_is_reported(cgroups: WorkerCgroups) -> None:
    if "memory" not in cgroups.groups:
        pytest.skip("no memory group")
    assert not cgroups.memory_limit_hit()
    child = joined(cgroups, "x = bytearray(400 * 2**20)\nprint('survived')")
    out, _ = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL and "survived" not in out
    assert cgroups.memory_limit_hit()


@pytest.mark.slow
def test_process_limit_holds_for_root(cgroups: WorkerCgroups) -> None:
    if "pids" not in cgroups.groups:
        pytest.skip("no pids group")
    code = ("import os, time\nn = 0\nwhile n < 200:\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
            "    n += 1\nprint(n, flush=True)\ntime.sleep(60)")
    child = joined(cgroups, code)
    assert child.stdout is not None
    started = int(child.stdout.readline())
    assert started < 8 + RUNTIME_TASKS
    assert len(cgroups.members()) == started + 1
    cgroups.kill()
    child.wait(timeout=10)
    cgroups.remove()
    assert cgroups.groups == {} and cgroups.members() == []


@pytest.mark.slow
def test_kill_reaches_setsid_escapees_and_remove_deletes_the_groups(cgroups: WorkerCgroups) -> None:
    paths = list(cgroups.groups.values())
    child = joined(cgroups, "import subprocess\nsubprocess.Popen(['setsid', 'sleep', '300'])\nprint('go', flush=True)\n"
                            "import time\ntime.sleep(300)")
    assert child.stdout is not None and child.stdout.readline() == "go\n"
    members = cgroups.members()
    assert len(members) >= 2
    cgroups.remove()
    child.wait(timeout=10)
    assert all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in members)
    assert not any(path.exists() for path in paths)


def test_no_hierarchy_means_no_groups_and_harmless_calls(tmp_path: Path) -> None:
    groups = create_worker_cgroups(memory=MiB, processes=1, root=tmp_path / "absent")
    assert groups.groups == {} and groups.procs_files() == {} and groups.members() == []
    assert not groups.memory_limit_hit()
    groups.kill()
    groups.remove()
    empty = create_worker_cgroups(memory=MiB, processes=1, root=tmp_path)  # a directory that is no cgroup fs
    assert empty.groups == {}


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True

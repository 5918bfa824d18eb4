"""Leftovers of graders killed outright: removed when their process is gone, never while it lives."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.sandbox.cgroups import group_parents, owner_tag
from grader.sandbox.leftovers import folder_prefix, remove_leftovers


def gone_pid() -> int:
    """The pid of a process that ran and was reaped."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


def test_folders_of_gone_processes_go_and_the_living_ones_stay(tmp_path: Path) -> None:
    dead = gone_pid()
    ns = owner_tag().split("-")[1]
    for kind in ("worker", "zygote", "task"):
        (tmp_path / f"grader-{kind}-{dead}-{ns}-x1" / "work").mkdir(parents=True)
        (tmp_path / f"grader-{kind}-{dead}-{ns}-x1" / "work" / "worker-output.log").write_text("output")
    kept = [tmp_path / (folder_prefix("worker") + "mine"),  # this process's
            tmp_path / f"grader-worker-1-{ns}-init",  # pid 1 lives
            tmp_path / f"grader-worker-{dead}-{int(ns) + 1}-x1",  # another PID namespace's: its pid means another
            tmp_path / f"grader-notebook-{dead}-{ns}-x",  # not a name the grader gives
            tmp_path / f"grader-worker-{dead}-x"]  # nor this
    for path in kept:
        path.mkdir()
    (tmp_path / f"grader-task-{dead}-{ns}-file").write_text("a file, not a folder")
    removed = remove_leftovers(tmp_path, cgroup_root=tmp_path / "no-cgroups")
    assert sorted(p.name for p in removed) == [f"grader-{kind}-{dead}-{ns}-x1" for kind in ("task", "worker", "zygote")]
    assert sorted(tmp_path.iterdir()) == sorted([*kept, tmp_path / f"grader-task-{dead}-{ns}-file"])


def test_a_folder_with_something_mounted_inside_is_left_alone(tmp_path: Path) -> None:
    """rmtree would descend into a mount: a bind of /usr left in this namespace would be emptied."""
    if os.geteuid() != 0 or not Path("/proc/self/mountinfo").exists():
        pytest.skip("mounting needs root on Linux")
    dead = gone_pid()
    leftover = tmp_path / (folder_prefix("worker").replace(f"-{os.getpid()}-", f"-{dead}-") + "x1")
    inside = leftover / "root" / "data"
    inside.mkdir(parents=True)
    source = tmp_path / "precious"
    source.mkdir()
    (source / "keep.txt").write_text("not the grader's")
    mounted = subprocess.run(["mount", "--bind", str(source), str(inside)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.strip()}")
    try:
        assert remove_leftovers(tmp_path, cgroup_root=tmp_path / "no-cgroups") == []
        assert (source / "keep.txt").read_text() == "not the grader's"
    finally:
        subprocess.run(["umount", str(inside)], check=True)
    assert remove_leftovers(tmp_path, cgroup_root=tmp_path / "no-cgroups") == [leftover]
    assert (source / "keep.txt").exists()


# A grader process that makes its worker's groups, puts a process in them and dies without removing them.
KILLED_GRADER = """
import subprocess, sys
from grader.sandbox.cgroups import create_worker_cgroups
groups = create_worker_cgroups(2**30, 16)
sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for procs in groups.procs_files().values():
    with open(procs, "w") as f:
        f.write(str(sleeper.pid))
print(sleeper.pid, *groups.groups.values())
"""


def test_the_groups_of_a_gone_grader_are_emptied_and_removed() -> None:
    if not group_parents():
        pytest.skip("no control groups this process may make here")
    done = subprocess.run([sys.executable, "-c", KILLED_GRADER], capture_output=True, text=True, check=True)
    sleeper, *paths = done.stdout.split()
    groups = [Path(p) for p in paths]
    assert groups and all(g.is_dir() for g in groups)
    assert str(sleeper) in (groups[0] / "cgroup.procs").read_text()  # the groups hold a process
    removed = remove_leftovers()
    assert set(groups) <= set(removed)
    assert not [g for g in groups if g.exists()]
    deadline = time.monotonic() + 5
    while _running(int(sleeper)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(int(sleeper))


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

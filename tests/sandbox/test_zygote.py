"""Workers forked from the zygote: the same jail as fresh ones, nothing of the grader inherited."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.errors import CallTimeout, WorkerDied
from grader.limits import Limits
from grader.proxy import Submission
from grader.sandbox.launch import spawn_worker
from grader.sandbox.session import WorkerSession
from grader.sandbox.zygote import Zygote

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")]

FAST = Limits(cell_timeout=3, call_timeout=2, interrupt_grace=2)
REPO = Path(__file__).resolve().parents[2]
CELLS = [
    "import os, sys",
    "def add(a, b):\n    return a + b",
    "def spin():\n    while True:\n        pass",
    "def die():\n    os._exit(7)",
    "def grader_modules():\n    return sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')"
    " or m in ('grader.plugin', 'grader.grading', 'grader.reference', 'grader.checks'))",
    "def read(path):\n    with open(path) as f:\n        return f.read(10)",
    "def me():\n    return os.getpid(), os.getuid()",
    "with open('helper_module.py', 'w') as f:\n    f.write('X = 41')\nimport helper_module",
    "def own_module():\n    return helper_module.X + 1",
    "%matplotlib inline\nimport matplotlib\nimport matplotlib.pyplot as plt",
    "def plot():\n    plt.figure()\n    plt.plot([0, 1], [1, 0])\n    plt.savefig('fig.png')\n    plt.close('all')\n"
    "    here = os.getcwd()\n    return (os.path.getsize('fig.png') > 0, matplotlib.get_backend(),\n"
    "            matplotlib.get_configdir().startswith(here), matplotlib.get_cachedir().startswith(here))",
]


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    with Zygote() as z:
        yield z


def run(spawn: object) -> tuple[WorkerSession, Submission]:
    session = WorkerSession(FAST, spawn=spawn)  # type: ignore[arg-type]
    outcomes = session.run_notebook(CELLS)
    assert [o.status for o in outcomes] == ["ok"] * len(CELLS)
    return session, Submission(session)


def test_same_sandbox_as_a_fresh_worker(zygote: Zygote) -> None:
    forked, sub = run(zygote.spawn)
    fresh, _ = run(spawn_worker)
    with forked, fresh:
        assert sub.add(2, 3) == 5
        assert sub.own_module() == 42  # a module the notebook wrote beside itself imports, as in a fresh worker
        assert forked.sandbox == fresh.sandbox
        if os.geteuid() == 0:
            assert {"pidns", "mountns", "netns", "uid", "seccomp", "cgroup-memory"} <= set(forked.sandbox)
        assert sub.grader_modules() == []  # the zygote never held tests, plugin or reference
        with pytest.raises(AssertionError, match=r"FileNotFoundError|PermissionError"):
            sub.read(str(REPO / "solutions" / "optimization_intro" / "solution.ipynb"))
        assert sub.me()[0] == 1 or "pidns" not in forked.sandbox
        # matplotlib, preloaded by the zygote, draws and keeps its files in the worker's own directory
        forked_plot = sub.plot()
        assert forked_plot == Submission(fresh).plot()
        drawn, backend, config_here, cache_here = forked_plot
        assert drawn and "inline" in backend and config_here and cache_here  # 'inline' or its module's name


def test_time_outs_and_deaths_restart_from_the_zygote(zygote: Zygote) -> None:
    session, sub = run(zygote.spawn)
    with session:
        with pytest.raises(CallTimeout):
            sub.spin()
        assert sub.add(1, 1) == 2  # a new fork, the notebook replayed
        with pytest.raises(WorkerDied, match="status 7"):
            sub.die()
        assert sub.add(2, 2) == 4
        assert session.restarts == 1  # the time-out was interrupted (SIGINT); the death restarted
    zygote.reap_orphans()
    assert zygote.alive()


def test_two_workers_at_once_are_apart(zygote: Zygote) -> None:
    first, a = run(zygote.spawn)
    second, b = run(zygote.spawn)
    with first, second:
        assert a.me()[1] != b.me()[1] or os.geteuid() != 0  # a uid each
        assert a.add(1, 2) == b.add(1, 2) == 3

"""The worker session with real worker processes: cells, calls, time limits, crashes."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.codec import Opaque
from grader.errors import CallTimeout, MissingFunction, SandboxError, StudentException, TotalTimeout, WorkerDied
from grader.limits import Limits
from grader.proxy import Submission
from grader.sandbox.launch import WorkerProcess, spawn_worker
from grader.sandbox.session import TIMEOUTS_PER_FUNCTION, CellOutcome, WorkerSession

pytestmark = pytest.mark.slow

# Short limits, with a grace that holds on a loaded 2-core machine.
FAST = Limits(cell_timeout=3, call_timeout=2, interrupt_grace=2)

CELLS = [
    "import os, sys, signal, pickle\nimport numpy as np\nimport torch\ncounter = [0]",
    "def add(a, b):\n    return a + b",
    "def boom():\n    raise ValueError('bad <input>')",
    "def spin():\n    while True:\n        pass",
    "def stubborn():\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass",
    "def die():\n    os._exit(7)",
    "class Rigged:\n    def __eq__(self, other):\n        return True\ndef rigged():\n    return Rigged()",
    "def objects():\n    return np.array([1, 'a'], dtype=object)",
    "def pickled():\n    return pickle.dumps({'a': 1})",
    "def shout():\n    print('x' * 50_000_000)\n    return 1",
    "def square_(x):\n    x.mul_(x)\n    return x",
    "def grad_of_input(x):\n    x.requires_grad_(True)\n    (x * x).sum().backward()\n    return x.grad",
    "def garbage():\n    for fd in range(3, 64):\n        try:\n            os.write(fd, b'\\xff' * 64)\n"
    "        except OSError:\n            pass\n    return 1",
    "def count():\n    counter[0] += 1\n    return counter[0]",
    "not_a_function = 3",
]


@pytest.fixture(scope="module")
def session() -> Iterator[WorkerSession]:
    with WorkerSession(FAST) as s:
        outcomes = s.run_notebook(CELLS)
        assert [o.status for o in outcomes] == ["ok"] * len(CELLS)
        yield s


@pytest.fixture
def sub(session: WorkerSession) -> Submission:
    return Submission(session)


def test_plain_call(sub: Submission) -> None:
    assert sub.add(2, 3) == 5
    assert torch.equal(sub.add(torch.ones(2), torch.ones(2)), torch.full((2,), 2.0))


def test_missing_function_and_non_function(sub: Submission) -> None:
    with pytest.raises(MissingFunction, match="does not define a function `nope`"):
        sub.nope()
    with pytest.raises(MissingFunction, match="is a int"):
        sub.not_a_function()


def test_student_exception_text(sub: Submission) -> None:
    with pytest.raises(StudentException, match=r"`boom` raised ValueError: bad <input>"):
        sub.boom()


def test_infinite_loop_is_interrupted_and_worker_survives(session: WorkerSession, sub: Submission) -> None:
    restarts = session.restarts
    with pytest.raises(CallTimeout, match="call time limit"):
        sub.spin()
    assert session.restarts == restarts
    assert sub.add(1, 1) == 2


def test_loop_ignoring_sigint_is_killed_and_replaced(session: WorkerSession, sub: Submission) -> None:
    restarts = session.restarts
    with pytest.raises(CallTimeout):
        sub.stubborn()
    assert session.restarts == restarts + 1
    assert sub.add(2, 2) == 4  # a new worker, with the notebook run again


def test_os_exit_in_a_function(session: WorkerSession, sub: Submission) -> None:
    with pytest.raises(WorkerDied, match="exited with status 7"):
        sub.die()
    assert sub.add(1, 2) == 3


def test_rigged_eq_and_object_arrays_arrive_opaque(sub: Submission) -> None:
    for value in (sub.rigged(), sub.objects()):
        assert isinstance(value, Opaque) and not (value == value)


def test_pickle_bytes_stay_bytes(sub: Submission) -> None:
    value = sub.pickled()
    assert isinstance(value, bytes) and value.startswith(b"\x80")


def test_huge_output_is_capped_and_call_still_returns(sub: Submission) -> None:
    assert sub.shout() == 1


def test_with_args_shows_in_place_modification(sub: Submission) -> None:
    x = torch.tensor([2.0, 3.0])
    result, args, _ = sub.square_.with_args(x)
    assert torch.equal(args[0], torch.tensor([4.0, 9.0])) and torch.equal(x, torch.tensor([2.0, 3.0]))
    assert torch.equal(result, torch.tensor([4.0, 9.0]))


def test_with_args_shows_an_input_set_to_require_grad(sub: Submission) -> None:
    """The wire carries values only: an input the function made require grad comes back as a note, not as itself."""
    got, (after,), _ = sub.grad_of_input.with_args(torch.tensor([1.0, 2.0]))
    assert torch.equal(got, torch.tensor([2.0, 4.0]))
    assert after == "a tensor the function set to require grad"
    got, (after,), _ = sub.square_.with_args(torch.tensor([3.0]))
    assert torch.equal(after, torch.tensor([9.0]))  # values changed in place still come back as values


def test_grad_mode(sub: Submission) -> None:
    value, grad = sub.add.grad(torch.tensor([1.0, 2.0], dtype=torch.float64), 1.0)
    assert torch.equal(value, torch.tensor([2.0, 3.0], dtype=torch.float64))
    assert torch.equal(grad, torch.ones(2, dtype=torch.float64))


def test_garbage_on_every_descriptor_costs_one_call(session: WorkerSession, sub: Submission) -> None:
    with contextlib.suppress(WorkerDied):  # the grader may refuse what came back; the next call matters
        sub.garbage()
    assert sub.add(5, 5) == 10


def test_state_persists_between_calls(sub: Submission) -> None:
    first = sub.count()
    assert sub.count() == first + 1


# ------------------------------------------------------------------ cells


def test_cell_errors_time_outs_and_crashes_are_recorded_and_the_rest_runs() -> None:
    cells = [
        "x = 1\nprint('hello')",
        "1/0",
        "def broken(:\n    pass",
        "while True:\n    pass",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "import sys\nsys.exit(3)",
        "import os\nos._exit(1)",
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\ny = x + 1",
        "print(y)",
    ]
    with WorkerSession(FAST) as s:
        outcomes = s.run_notebook(cells)
        statuses = [o.status for o in outcomes]
        assert statuses == ["ok", "error", "error", "timeout", "timeout", "error", "crashed", "ok", "ok"]
        assert outcomes[0].output == "hello\n"
        assert outcomes[1].ename == "ZeroDivisionError" and "1/0" in outcomes[1].traceback
        assert outcomes[2].ename == "SyntaxError"
        assert outcomes[5].ename == "SystemExit"
        assert "exited with status 1" in outcomes[6].evalue
        assert outcomes[8].output == "2\n"  # state of cell 1 replayed after both restarts
        assert s.restarts == 2
        pid_dir = s._worker.workdir if s._worker else None
    assert pid_dir is not None and not pid_dir.exists()


def test_figures_are_closed_after_their_cell_and_never_drawn_for_nobody() -> None:
    cells = [
        "%matplotlib inline\nimport matplotlib.pyplot as plt",
        "fig = plt.figure()\nplt.plot([1, 2])",
        "def after():\n    return fig.stale, plt.get_fignums()",
        "def saved():\n    fig.savefig('fig.png')\n    return os.path.getsize('fig.png') > 1000",
        "import os",
    ]
    with WorkerSession(FAST) as s:
        assert [o.status for o in s.run_notebook(cells)] == ["ok"] * len(cells)
        sub = Submission(s)
        assert sub.after() == (True, [])  # closed as in Jupyter, but not drawn after the cell (~0.1 s each)
        assert sub.saved() is True  # the student's own savefig draws


def test_shell_lines_run_as_in_jupyter_without_a_terminal() -> None:
    """``!cmd`` runs whatever its exit status, and the cell goes on (IPython's own needs a terminal, which the
    sandbox lacks: "out of pty devices" stopped the cell); ``x = !cmd`` captures; a hanging one is interrupted."""
    cells = [
        "!echo hello; echo oops >&2; exit 3\ndef status():\n    return _exit_code",
        "lines = !printf 'a\\nb\\n'\ndef captured():\n    return list(lines)",
        "!sleep 60",
        "def alive():\n    return 1",
    ]
    with WorkerSession(FAST) as s:
        outcomes = s.run_notebook(cells)
        assert [o.status for o in outcomes] == ["ok", "ok", "timeout", "ok"]
        assert outcomes[0].output == "hello\noops\n"
        sub = Submission(s)
        assert (sub.status(), sub.captured(), sub.alive()) == (3, ["a", "b"], 1)
        assert s.restarts == 0  # the interrupted shell line did not cost the worker


def test_stats_keep_only_finite_numbers() -> None:
    """NaN and Infinity made the grade's JSON one that strict parsers refuse."""
    cells = ["import grader.worker.serve as serve\n"
             "serve._stats = lambda: {'peak_rss_mib': 10**3999, 'cpu_seconds': 1.5, 'flag': True,\n"
             "                        'a': float('nan'), 'b': float('inf'), 'c': -float('inf'), 'd': 7}"]
    with WorkerSession(FAST) as s:
        assert [o.status for o in s.run_notebook(cells)] == ["ok"]
        assert s.stats() == {"cpu_seconds": 1.5, "d": 7.0}


def test_no_worker_starts_after_close_even_from_the_thread_running_the_cells() -> None:
    """Ctrl-C or a kill closes the session while another thread runs the notebook (as ``grade`` does): that thread
    saw its worker die and started a new one for the next cell, which nothing then stopped (fresh-ci caught it)."""
    started: list[WorkerProcess] = []

    def spawn(env: Mapping[str, str]) -> WorkerProcess:
        started.append(spawn_worker(env))
        return started[-1]

    session = WorkerSession(replace(FAST, cell_timeout=60), spawn=spawn)
    outcomes: list[CellOutcome] = []
    thread = threading.Thread(target=lambda: outcomes.extend(session.run_notebook(
        ["import time\ntime.sleep(30)", "x = 1", "y = 2"])))
    thread.start()
    deadline = time.monotonic() + 30
    while not session._ready and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the first cell is running
    session.close()
    thread.join(30)
    assert not thread.is_alive()
    assert len(started) == 1 and not started[0].workdir.exists()
    assert [o.status for o in outcomes] == ["crashed"] * 3


def test_close_leaves_no_process() -> None:
    with WorkerSession(FAST) as s:
        s.run_notebook(["import subprocess\np = subprocess.Popen(['sleep', '60'])"])
        assert s._worker is not None
        pgid = s._worker.pid
        assert live_processes_in_group(pgid)
    assert live_processes_in_group(pgid) == []


def live_processes_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies (the dead wait for init to reap them)."""
    alive = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(name))
    return alive


def test_numpy_result_arrives_as_array() -> None:
    with WorkerSession(FAST) as s:
        s.run_notebook(["import numpy as np\ndef arr():\n    return np.arange(3.0)"])
        value = Submission(s).arr()
    assert isinstance(value, np.ndarray) and value.tolist() == [0.0, 1.0, 2.0]


def test_a_worker_that_cannot_start_is_a_sandbox_error(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named torch' >&2\nexit 1\n")
    fake.chmod(0o755)
    with WorkerSession(FAST, spawn=lambda env: spawn_worker(env, python=str(fake))) as s, \
            pytest.raises(SandboxError, match="did not start: ModuleNotFoundError: No module named torch"):
        s.run_notebook(["x = 1"])


def test_a_function_that_keeps_hanging_is_not_called_again() -> None:
    with WorkerSession(FAST) as s:
        s.run_notebook(CELLS)
        sub = Submission(s)
        for _ in range(TIMEOUTS_PER_FUNCTION):
            with pytest.raises(CallTimeout, match="did not return within the call time limit"):
                sub.spin()
        start = time.monotonic()
        with pytest.raises(CallTimeout, match="`spin` was not called: it already ran past the call time limit"):
            sub.spin()
        assert time.monotonic() - start < FAST.call_timeout  # refused without a call
        assert sub.add(1, 2) == 3  # the other functions are still called


SLOW = ["import time\ndef slow():\n    time.sleep(1.5)\n    return 1\ndef add(a, b):\n    return a + b"]


def test_the_total_time_limit_stops_the_call_running_and_refuses_the_rest() -> None:
    """Calls each within the call time limit, but together past the total one (a class's slowest notebook)."""
    limits = replace(FAST, total_timeout=4)
    with WorkerSession(limits) as s:
        assert [o.status for o in s.run_notebook(SLOW)] == ["ok"]
        start = time.monotonic()
        sub = Submission(s)
        assert [sub.slow(), sub.slow()] == [1, 1]  # about 3 s in
        with pytest.raises(TotalTimeout, match=r"`slow` did not return: .* total time limit \(4 s\)"):
            sub.slow()  # cut at 4 s, not at the call's own 2 s
        stopped = time.monotonic()
        assert 3.5 < stopped - start < 4 + limits.interrupt_grace + 1
        with pytest.raises(TotalTimeout, match=r"`add` was not called: .* total time limit \(4 s\)"):
            sub.add(1, 2)
        assert time.monotonic() - stopped < 0.5  # refused without a call
        assert s.out_of_time
        assert s.stats()  # the end of grading still reads the worker's resources


def test_the_total_time_limit_covers_the_cells() -> None:
    limits = replace(FAST, total_timeout=2)
    with WorkerSession(limits) as s:
        s.run_notebook(["pass"])  # the worker has started (not the notebook's time, but this test's)
        start = time.monotonic()
        outcomes = s.run_notebook(["import time\ntime.sleep(1.2)", "time.sleep(1.2)", "x = 1"])
        assert time.monotonic() - start < 2 + limits.interrupt_grace + 1
        assert [o.status for o in outcomes] == ["ok", "timeout", "timeout"]
        assert all("total time limit (2 s)" in o.evalue for o in outcomes[1:])


def test_a_call_within_the_total_time_limit_keeps_its_own() -> None:
    with WorkerSession(replace(FAST, total_timeout=60)) as s:
        s.run_notebook(CELLS)
        with pytest.raises(CallTimeout) as info:
            Submission(s).spin()
        assert type(info.value) is CallTimeout and not s.out_of_time


def test_the_grader_s_own_time_between_calls_is_not_the_notebook_s() -> None:
    with WorkerSession(replace(FAST, total_timeout=1)) as s:
        s.run_notebook(CELLS)
        sub = Submission(s)
        assert sub.add(1, 2) == 3
        time.sleep(1.5)  # a slow check, or collection, in the grader
        assert sub.add(2, 3) == 5 and not s.out_of_time

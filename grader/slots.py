"""Grading slots: long-lived processes that grade one submission after another.

A slot is a fresh interpreter (a :class:`Slot`, never a fork of the command)
that starts a :class:`~grader.sandbox.zygote.Zygote` first, then
imports pytest, torch and sympy once, and grades each task it is sent exactly
as ``grader check --solutions`` does (:func:`grader.grading.grade`), with the
task's worker forked from the zygote: the imports and test modules are paid
once per slot, not per submission. Results travel back as plain data; the
command alone writes the gradebook.

A slot that dies (never the student's doing: student code runs in workers)
loses only the task it held, which the pool retries once in a new slot.
Ctrl-C reaches the slots too: the one grading stops its worker and exits
without a result, so a half-graded submission is never recorded.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing.connection
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.digests import digest_code, digest_suite, suite_paths
from grader.errors import GraderError, InputError, SandboxError
from grader.sandbox.launch import WorkerProcess, spawn_worker
from grader.sandbox.leftovers import folder_prefix, remove_leftovers
from grader.sandbox.zygote import Zygote

# A slot's program: slot_main on the descriptor given as its first argument, with
# the starting process's import path, given as the rest (as multiprocessing's spawn does).
_SLOT_PROGRAM = ("import sys\nsys.path[:] = sys.argv[2:]\nfrom multiprocessing.connection import Connection\n"
                 "from grader.slots import slot_main\nslot_main(Connection(int(sys.argv[1])))")


@dataclass(frozen=True)
class Task:
    """One submission to grade: the notebook's bytes travel, so a slot may run anywhere.

    ``suite`` and ``code``, when given, are the command's digests of the
    tests and reference (:func:`~grader.digests.digest_suite`) and of the
    grader's own code (:func:`~grader.digests.digest_code`): a slot whose
    copies differ (another machine's, or tests edited during the run) refuses
    the task rather than grade it with other tests than the gradebook records.
    """

    student: str
    filename: str
    content: bytes
    assignment: str | None
    solutions: str
    limits: Mapping[str, Any] = field(default_factory=dict)
    suite: str = ""
    code: str = ""


@dataclass(frozen=True)
class Outcome:
    """A task's result: the grade as plain data, or why there is none; the slot's memory.

    ``unreadable``: there is no grade because of the notebook itself (not a
    notebook, another assignment's): grading it again cannot help.
    """

    student: str
    grade: dict[str, Any] | None
    error: str = ""
    memory_mib: Mapping[str, float] = field(default_factory=dict)
    unreadable: bool = False


def grade_task(task: Task, spawn: Callable[[Mapping[str, str]], WorkerProcess] | None = None,
               code: str | None = None) -> Outcome:
    """Grade one task in this process (workers from ``spawn``, default fresh ones).

    ``code`` is this process's :func:`~grader.digests.digest_code`, to compare with the task's.
    """
    from grader.grading import grade
    from grader.job import prepare

    if task.code and code is not None and code != task.code:
        return Outcome(task.student, None, "this machine's grader is not the command's (its code differs): "
                                           "install the same grader everywhere")
    with tempfile.TemporaryDirectory(prefix=folder_prefix("task")) as folder:
        path = Path(folder) / task.filename
        path.write_bytes(task.content)
        try:
            job = prepare(path, task.assignment, Path(task.solutions), task.limits)
        except InputError as error:
            return Outcome(task.student, None, str(error).replace(str(path), task.filename), unreadable=True)
        if task.suite and digest_suite(suite_paths(job.assignment, job.solutions)) != task.suite:
            return Outcome(task.student, None, f"the tests or reference under {task.solutions} are not the ones "
                                               "the command started with (edited during the run, or another copy)")
        try:
            result = grade(job, spawn=spawn or spawn_worker)
        except GraderError as error:
            return Outcome(task.student, None, str(error).replace(str(path), task.filename))
    return Outcome(task.student, replace(result, submission=task.student).to_dict())


def slot_main(conn: multiprocessing.connection.Connection) -> None:
    """A slot's life: a zygote, then tasks until the connection closes."""
    sys.dont_write_bytecode = True
    # Out of the terminal's process group: Ctrl-C reaches the command alone, which
    # interrupts the slots still grading, once each (``_stop``).
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    zygote: Zygote | None = None
    try:
        remove_leftovers()  # of graders killed outright earlier
        code = digest_code()
        zygote = _start_zygote()
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if zygote is not None and not zygote.alive():
                zygote.close()
                zygote = _start_zygote()
            outcome = grade_task(task, zygote.spawn if zygote is not None else None, code)
            conn.send(replace(outcome, memory_mib=_memory(zygote)))
            _settle()
    except KeyboardInterrupt:
        return
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping: nothing may cut the clean-up short
        if zygote is not None:
            zygote.close()


def _settle() -> None:
    """Collect the task's garbage, then put what survived (libraries, test modules) out of the collector's sight.

    Otherwise every full collection walks the whole of pytest, torch and sympy again
    (0.1 to 0.3 s each, several per submission); what a frozen object refers to stays
    alive, but those are the imports and caches that would live anyway.
    """
    gc.collect()
    gc.freeze()


def _start_zygote() -> Zygote | None:
    try:
        return Zygote()
    except (SandboxError, OSError):
        return None  # workers are then started fresh: slower, same sandbox


def _memory(zygote: Zygote | None) -> dict[str, float]:
    """Peak resident memory of this slot's grader process and of its zygote, in MiB."""
    memory = {"grader": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if zygote is not None:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{zygote.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    memory["zygote"] = int(line.split()[1]) / 1024
    return memory


class TaskQueue:
    """Tasks taken one at a time as slots free up (so a lazy iterable reads each notebook only then), retries first."""

    def __init__(self, tasks: Iterable[Task]) -> None:
        self._rest = iter(tasks)
        self._front: deque[Task] = deque()

    def __bool__(self) -> bool:
        if not self._front:
            following = next(self._rest, None)
            if following is None:
                return False
            self._front.append(following)
        return True

    def pop(self) -> Task:
        """The next task (only after the queue was found non-empty)."""
        return self._front.popleft()

    def retry(self, task: Task) -> None:
        self._front.appendleft(task)


def run_local(tasks: Iterable[Task], jobs: int, on_outcome: Callable[[Outcome], None]) -> None:
    """Grade ``tasks`` in up to ``jobs`` slots; ``on_outcome`` is called here as each one ends.

    ``tasks`` is iterated as slots free up, at most one task ahead; a slot
    starts when a task finds none idle.
    """
    pending = TaskQueue(tasks)
    retried: set[str] = set()
    busy: dict[multiprocessing.connection.Connection, tuple[Slot, Task]] = {}
    idle: list[Slot] = []
    try:
        while busy or pending:
            while (idle or len(busy) < jobs) and pending:
                slot = idle.pop() if idle else Slot()
                task = pending.pop()
                slot.conn.send(task)
                busy[slot.conn] = (slot, task)
            for ready in multiprocessing.connection.wait(list(busy)):
                assert isinstance(ready, multiprocessing.connection.Connection)
                slot, task = busy.pop(ready)
                try:
                    outcome = ready.recv()
                except (EOFError, OSError):
                    slot.stop(deadline=time.monotonic() + 5)
                    if task.student not in retried:
                        retried.add(task.student)
                        pending.retry(task)
                    else:
                        on_outcome(Outcome(task.student, None, f"the grading slot died (exit code {slot.exit_code})"))
                    continue
                idle.append(slot)
                on_outcome(outcome)
    finally:
        stop_slots(idle, [slot for slot, _ in busy.values()])


class Slot:
    """One slot process, running :func:`slot_main`, and the connection to it.

    Started with :mod:`subprocess`, not :mod:`multiprocessing`, so that a Dask
    worker can start one too: Dask's nanny starts worker processes as daemonic
    (``distributed.worker.daemon``, default true), and multiprocessing refuses
    to start a child of a daemonic process. The slot's end of a socket pair,
    its only inherited descriptor, becomes its
    :class:`multiprocessing.connection.Connection`.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.popen = subprocess.Popen([sys.executable, "-c", _SLOT_PROGRAM, str(theirs.fileno()), *sys.path],
                                          pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        self.conn = multiprocessing.connection.Connection(ours.detach())

    @property
    def exit_code(self) -> int | None:
        return self.popen.returncode

    def interrupt(self) -> None:
        """Stop the grading under way: the slot stops its worker and exits, recording nothing."""
        with contextlib.suppress(OSError):
            self.popen.send_signal(signal.SIGINT)

    def stop(self, deadline: float) -> None:
        """Close the slot's connection (an idle slot then exits), wait until ``deadline``, then kill."""
        self.conn.close()  # closing twice is harmless
        try:
            self.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def stop_slots(idle: Sequence[Slot], busy: Sequence[Slot]) -> None:
    """Stop every slot: those still grading are interrupted (they record nothing); all have 10 s to exit, together.

    A slot stops its worker and its zygote first, then exits.
    """
    for slot in busy:
        slot.interrupt()
    slots = [*idle, *busy]
    for slot in slots:
        slot.conn.close()  # all at once: they exit together
    deadline = time.monotonic() + 10
    for slot in slots:
        slot.stop(deadline)

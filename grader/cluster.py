"""Batch grading on a Dask distributed cluster: the local pool's slots, on the cluster's workers.

:func:`run_dask` is :func:`grader.slots.run_local` with a Dask scheduler in
place of the local pool: each task is a Dask task, each outcome is handed to
``on_outcome`` in the calling thread as it arrives, a task whose slot died is
retried once and then reported as not graded.

A Dask worker never grades in its own process (it runs threads, an event loop
and Dask's signal handling; pytest and the zygote's child subreaper want a
process of their own). :class:`SlotPlugin`, registered for the run, starts one
slot per worker thread when it is set up on a worker and stops them when it is
removed: each slot is the same :func:`grader.slots.slot_main` the local pool
runs, so a submission is graded exactly as ``grader grade`` grades it locally,
its worker sandboxed and forked from the slot's zygote.

Slots are started with :mod:`subprocess`, not :mod:`multiprocessing`: Dask's
nanny starts worker processes as daemonic (``distributed.worker.daemon``,
default true), and multiprocessing refuses to start a child of a daemonic
process. A subprocess is an ordinary child, whatever the worker's settings;
the slot's end of a socket pair, passed as its only inherited descriptor,
becomes the same :class:`multiprocessing.connection.Connection` a local slot
is given.

Tasks carry the notebook's bytes; the assignment and solutions folders travel
as paths, which must exist on every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Any

from distributed import Client, Future, WorkerPlugin, as_completed, get_worker

from grader.errors import InputError
from grader.slots import Outcome, Task

# The slot's program: slot_main on the descriptor given as its argument.
_SLOT_PROGRAM = ("import sys\nfrom multiprocessing.connection import Connection\nfrom grader.slots import slot_main\n"
                 "slot_main(Connection(int(sys.argv[1])))")


class SlotDied(RuntimeError):
    """The slot grading a task ended without a result (the client retries the task once)."""


class _Slot:
    """One slot process and the connection to it."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.popen = subprocess.Popen([sys.executable, "-c", _SLOT_PROGRAM, str(theirs.fileno())],
                                          pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        self.conn = Connection(ours.detach())

    def stop(self, interrupt: bool, deadline: float) -> None:
        """Stop the slot: SIGINT first if it is grading (it then records nothing), close, wait, kill."""
        if interrupt:
            with contextlib.suppress(OSError):
                self.popen.send_signal(signal.SIGINT)
        self.conn.close()
        try:
            self.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


class _Slots:
    """A Dask worker's slots, one per worker thread; a task borrows one for its grading."""

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.closed = False
        self.busy: set[_Slot] = set()
        self.idle: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self.every: set[_Slot] = set()
        for _ in range(count):
            self._add()

    def _add(self) -> None:
        slot = _Slot()
        self.every.add(slot)
        self.idle.put(slot)

    def grade(self, task: Task) -> Outcome:
        """Grade ``task`` in an idle slot; :class:`SlotDied` if the slot ends first (a new one replaces it)."""
        slot = self.idle.get()
        with self.lock:
            if self.closed:
                raise SlotDied("the grading slots were stopped")
            self.busy.add(slot)
        try:
            slot.conn.send(task)
            outcome = slot.conn.recv()
        except (EOFError, OSError):
            with self.lock:
                self.busy.discard(slot)
                self.every.discard(slot)
                if not self.closed:
                    self._add()
            slot.stop(interrupt=False, deadline=time.monotonic() + 5)
            raise SlotDied(f"the grading slot died (exit code {slot.popen.returncode})") from None
        with self.lock:
            self.busy.discard(slot)
        self.idle.put(slot)
        if not isinstance(outcome, Outcome):
            raise SlotDied(f"the grading slot replied {type(outcome).__name__}, not an Outcome")
        return outcome

    def close(self) -> None:
        """Stop every slot: those grading are interrupted and record nothing."""
        with self.lock:
            self.closed = True
            every, busy = list(self.every), set(self.busy)
            self.every.clear()
        deadline = time.monotonic() + 10
        for slot in every:
            if slot in busy:
                with contextlib.suppress(OSError):
                    slot.popen.send_signal(signal.SIGINT)
        for slot in every:
            slot.stop(interrupt=False, deadline=deadline)
        for slot in every:  # wake any task waiting for a slot: it then sees ``closed``
            self.idle.put(slot)


class SlotPlugin(WorkerPlugin):
    """Starts a worker's slots when registered on it, stops them when removed or when the worker closes."""

    def __init__(self) -> None:
        self.slots: _Slots | None = None

    def setup(self, worker: Any) -> None:
        self.slots = _Slots(max(1, int(worker.state.nthreads)))

    async def teardown(self, worker: Any) -> None:
        if self.slots is not None:
            await asyncio.to_thread(self.slots.close)  # off the worker's event loop: slots take seconds to stop


def _grade_on_worker(plugin: str, task: Task) -> Outcome:
    """The Dask task: grade ``task`` in one of this worker's slots."""
    registered = get_worker().plugins.get(plugin)
    if not isinstance(registered, SlotPlugin) or registered.slots is None:
        raise SlotDied("this Dask worker has no grading slots (the run ended?)")
    return registered.slots.grade(task)


def _failure(future: Future[Outcome]) -> str:
    """Why a Dask task gave no outcome, in one line."""
    if future.status == "error":
        exc = future.exception()
        text = str(exc).strip().splitlines()
        return text[0] if isinstance(exc, SlotDied) and text else f"{type(exc).__name__}: {text[0] if text else ''}"
    return f"the Dask task was {future.status}"


def connect(address: str) -> Client:
    """A client of the scheduler at ``address`` that has at least one worker, or :class:`InputError`."""
    try:
        client = Client(address, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"cannot reach the Dask scheduler at {address}: {why}") from None
    try:
        client.wait_for_workers(1, timeout=60)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(f"the Dask scheduler at {address} has no workers") from None
    return client


def run_dask(tasks: Iterable[Task], address: str, on_outcome: Callable[[Outcome], None]) -> None:
    """Grade ``tasks`` on the Dask cluster at ``address``; ``on_outcome`` is called here as each one ends.

    As many tasks run at once as the cluster's workers have threads, one
    slot each. On any exit (Ctrl-C included) the outstanding tasks are
    cancelled and the slots stopped before the client closes.
    """
    client = connect(address)
    plugin = f"grader-slots-{uuid.uuid4().hex}"  # one per run: concurrent runs keep their own slots
    pending: dict[Any, tuple[Future[Outcome], Task]] = {}
    try:
        client.register_plugin(SlotPlugin(), name=plugin)
        futures = as_completed()

        def submit(task: Task) -> None:
            future = client.submit(_grade_on_worker, plugin, task, pure=False,
                                   key=f"grade-{task.student}-{uuid.uuid4().hex}")
            pending[future.key] = (future, task)
            futures.add(future)

        for task in tasks:
            submit(task)
        retried: set[str] = set()
        for future in futures:
            _, task = pending.pop(future.key)
            if future.status == "finished":
                outcome = future.result()
            elif task.student not in retried:
                retried.add(task.student)
                submit(task)
                continue
            else:
                outcome = Outcome(task.student, None, _failure(future))
            on_outcome(outcome)
    finally:
        try:
            if pending:
                client.cancel([future for future, _ in pending.values()])
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(plugin)
        finally:
            client.close()

"""Batch grading on a Dask distributed cluster: the local pool's slots, on the cluster's workers.

:func:`run_dask` is :func:`grader.slots.run_local` with a Dask scheduler in
place of the local pool: each task is a Dask task, each outcome is handed to
``on_outcome`` in the calling thread as it arrives, a task whose slot died is
retried once and then reported as not graded.

A Dask worker never grades in its own process (it runs threads, an event loop
and Dask's signal handling; pytest and the zygote's child subreaper want a
process of their own). :class:`SlotPlugin`, registered for the run, keeps a
worker's slots (at most one per worker thread, each started by the first task
that needs it and reused) and stops them when it is removed at the end of the
run or when the worker closes. Each slot runs :func:`grader.slots.slot_main`,
as a local slot does, so a submission is graded exactly as ``grader grade``
grades it locally, its worker sandboxed and forked from the slot's zygote.

Tasks carry the notebook's bytes; the assignment and solutions folders travel
as paths, which must exist on every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from distributed import Client, Future, WorkerPlugin, as_completed, get_worker

from grader.errors import InputError
from grader.slots import Outcome, Slot, Task, stop_slots


class SlotDied(RuntimeError):
    """The slot grading a task ended without a result (the client retries the task once)."""


class _Slots:
    """A Dask worker's slots: a task borrows an idle one, or starts one (so at most one per worker thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closed = False
        self.idle: list[Slot] = []
        self.busy: set[Slot] = set()

    def grade(self, task: Task) -> Outcome:
        """Grade ``task`` in a slot; :class:`SlotDied` if the slot ends first."""
        with self.lock:
            if self.closed:
                raise SlotDied("the grading slots were stopped")
            slot = self.idle.pop() if self.idle else Slot()
            self.busy.add(slot)
        try:
            slot.conn.send(task)
            outcome = slot.conn.recv()
        except (EOFError, OSError):
            with self.lock:
                self.busy.discard(slot)
            slot.stop(deadline=time.monotonic() + 5)
            raise SlotDied(f"the grading slot died (exit code {slot.exit_code})") from None
        with self.lock:
            self.busy.discard(slot)
            keep = not self.closed
            if keep:
                self.idle.append(slot)
        if not keep:
            slot.stop(deadline=time.monotonic() + 5)
        if not isinstance(outcome, Outcome):
            raise SlotDied(f"the grading slot replied {type(outcome).__name__}, not an Outcome")
        return outcome

    def close(self) -> None:
        """Stop every slot: those grading are interrupted and record nothing."""
        with self.lock:
            self.closed = True
            idle, busy = self.idle, list(self.busy)
            self.idle = []
        stop_slots(idle, busy)


class SlotPlugin(WorkerPlugin):
    """Holds a worker's slots for one run; stops them when removed or when the worker closes.

    Slots start with the worker's first task, not in ``setup``: a plugin left
    registered (a run killed before it could remove it) then costs nothing.
    """

    def __init__(self) -> None:
        self.slots: _Slots | None = None

    def setup(self, worker: Any) -> None:
        self.slots = _Slots()

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
    slot each; ``tasks`` is iterated as they finish, a window ahead. On
    any exit (Ctrl-C included) the outstanding tasks are cancelled and the
    slots stopped before the client closes.
    """
    client = connect(address)
    plugin = f"grader-slots-{uuid.uuid4().hex}"  # one per run: concurrent runs keep their own slots
    pending: dict[Any, tuple[Future[Outcome], Task]] = {}
    try:
        client.register_plugin(SlotPlugin(), name=plugin)
        futures = as_completed(loop=client.loop)

        def submit(task: Task) -> None:
            future = client.submit(_grade_on_worker, plugin, task, pure=False,
                                   key=f"grade-{task.student}-{uuid.uuid4().hex}")
            pending[future.key] = (future, task)
            futures.add(future)

        # A window of tasks in flight, not the whole class: each carries its notebook's bytes.
        source = iter(tasks)
        for task in itertools.islice(source, max(8, 2 * sum(client.nthreads().values()))):
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
            following = next(source, None)
            if following is not None:
                submit(following)
    finally:
        try:
            with contextlib.suppress(Exception):
                client.cancel([future for future, _ in pending.values()])
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(plugin)  # stops the slots, interrupting those still grading
        finally:
            client.close()

"""One submission's worker, seen from the grader: cells, calls, time limits, restarts.

A :class:`WorkerSession` runs the notebook's code cells in a worker, one
request per cell, and then serves calls. It enforces the time limits from the
grader's side: when a cell or call runs past its limit the worker is
interrupted (SIGINT, as Jupyter does), and killed if it does not answer within
a grace period. The cells and calls of one session also share a total time
limit, on the time they take added up (not the grader's own work between
them): once it is used up, the cell or call running is stopped the same way
and no other is sent. A worker that dies is replaced on the next request by a
new one that replays the cells that completed before (skipping those that hung
or killed it), so one bad call fails one test and the next test goes on.
"""

from __future__ import annotations

import contextlib
import math
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from grader import codec
from grader.errors import (
    BadResult,
    CallTimeout,
    MissingFunction,
    ProtocolError,
    SandboxError,
    StudentException,
    TotalTimeout,
    WorkerDied,
)
from grader.limits import Limits, format_size
from grader.sandbox.launch import WorkerProcess, spawn_worker

CellStatus = Literal["ok", "error", "timeout", "crashed"]
Mode = Literal["value", "grad", "args"]
# A generator passed to the student comes back in ``with_args`` replies.
REPLY_EXTENSIONS: dict[str, codec.Extension] = {"generator": codec.decode_generator}
STARTUP_TIMEOUT = 120.0
MAX_RESTARTS = 10


@dataclass(frozen=True)
class CellOutcome:
    """What running one code cell did, from the grader's point of view."""

    index: int
    status: CellStatus
    output: str = ""
    ename: str = ""
    evalue: str = ""
    traceback: str = ""


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


class _OutOfTime(Exception):
    """The session's total time limit is used up (a cell or call was stopped, or none was sent)."""


# A function that ran past the call time limit this often is not called again
# in the same grading: its further tests fail at once, saying why. Without it a
# function that always hangs costs the time limit once per test (minutes).
TIMEOUTS_PER_FUNCTION = 2


class WorkerSession:
    """The worker of one submission; a context manager that leaves nothing running."""

    def __init__(
        self,
        limits: Limits,
        spawn: Callable[[Mapping[str, str]], WorkerProcess] = spawn_worker,
        first: WorkerProcess | None = None,
    ) -> None:
        self.limits = limits
        self._spawn = spawn
        self._worker: WorkerProcess | None = first
        self._reader: codec.FrameReader | None = None
        self._ready = False
        self._next_id = 1
        self._sources: list[str] = []
        self._outcomes: list[CellOutcome] = []
        self.restarts = 0
        self.sandbox: tuple[str, ...] = ()
        self._timeouts: dict[str, int] = {}  # calls per function that ran past the call time limit
        self._time_used = 0.0  # by the cells and calls, against the total time limit
        # start and close exclude each other: the notebook's cells may run in another thread
        # (grader.grading.LazySubmission), which must not start a worker once the session is closed.
        self._lifecycle = threading.Lock()
        self._closed = False

    @property
    def out_of_time(self) -> bool:
        """Whether the cells and calls have used up the total time limit."""
        return self._time_used >= self.limits.total_timeout

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start a worker now (it imports its libraries while the grader does too); none once closed."""
        with self._lifecycle:
            if self._closed:
                raise _Died("was stopped with the grading")
            if self._worker is None:
                self._worker = self._spawn(self.limits.to_env())
            if self._reader is None:
                self._reader = codec.FrameReader(self._worker.from_worker)

    def close(self) -> None:
        """Stop the worker and remove its directory; no worker starts after this."""
        with self._lifecycle:
            self._closed = True
            if self._worker is not None:
                self._worker.close()
                self._worker, self._reader, self._ready = None, None, False

    # ------------------------------------------------------------------ cells

    def run_notebook(self, sources: Sequence[str]) -> list[CellOutcome]:
        """Run the code cells in order, recording each one's outcome and going on."""
        self._sources = list(sources)
        self._outcomes = []
        for index in range(len(self._sources)):
            self._outcomes.append(self._run_cell(index))
        return list(self._outcomes)

    def _run_cell(self, index: int) -> CellOutcome:
        try:
            self._ensure_worker()
            reply = self._request({"op": "cell", "source": self._sources[index]}, self.limits.cell_timeout)
        except _Timeout:
            return CellOutcome(index, "timeout", ename="Timeout",
                               evalue=f"the cell ran longer than the cell time limit ({self.limits.cell_timeout:g} s)")
        except _Died as died:
            return CellOutcome(index, "crashed", ename="WorkerDied", evalue=f"the notebook's process {died}")
        except _OutOfTime:
            return CellOutcome(index, "timeout", ename="Timeout",
                               evalue=f"the cell did not finish: {self.out_of_time_text()}")
        status: CellStatus = "ok" if reply.get("status") == "ok" else "error"
        output, ename, evalue, traceback = (_text(reply.get(k)) for k in ("output", "ename", "evalue", "traceback"))
        if status == "error":
            evalue += self.limits.explain(ename, evalue)
        return CellOutcome(index, status, output, ename, evalue, traceback)

    def _ensure_worker(self) -> None:
        """Start or replace the worker, replaying the cells that completed; none once the time is used up."""
        if self.out_of_time:
            raise _OutOfTime
        if self._ready:
            return
        if self.restarts >= MAX_RESTARTS:
            raise _Died(f"was restarted {MAX_RESTARTS} times; no more restarts")
        replay = [o.index for o in self._outcomes if o.status in ("ok", "error")]
        self.start()
        self._await_ready()
        self._ready = True
        for index in replay:
            try:
                self._request({"op": "cell", "source": self._sources[index]}, self.limits.cell_timeout)
            except _Timeout:
                if self._worker is None:
                    raise _Died("hung while the notebook was run again") from None

    def _await_ready(self) -> None:
        assert self._worker is not None and self._reader is not None
        try:
            frame = self._reader.read(time.monotonic() + STARTUP_TIMEOUT)
            reply = codec.unpack(*frame) if frame is not None else None
        except (EOFError, OSError, ProtocolError):
            reply = None
        if not (isinstance(reply, dict) and reply.get("status") == "ready"):
            lines = self._worker.startup_log().splitlines()
            self.close()
            raise SandboxError(f"the worker did not start: {lines[-1] if lines else 'no message'}")
        sandbox = reply.get("sandbox")
        self.sandbox = tuple(s for s in sandbox if isinstance(s, str)) if isinstance(sandbox, list) else ()

    # ------------------------------------------------------------------ calls

    def call(self, name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
             mode: Mode = "value") -> Any:
        """Call the notebook's function ``name``; raise a SubmissionError if no value comes back."""
        try:
            self._ensure_worker()
        except _Died as died:
            raise WorkerDied(f"`{name}` could not be called: the notebook's process {died}") from None
        except _OutOfTime:
            raise TotalTimeout(f"`{name}` was not called: {self.out_of_time_text()}") from None
        limit = f"the call time limit ({self.limits.call_timeout:g} s)"
        if self._timeouts.get(name, 0) >= TIMEOUTS_PER_FUNCTION:
            raise CallTimeout(f"`{name}` was not called: it already ran past {limit} "
                              f"{TIMEOUTS_PER_FUNCTION} times")
        message = {"op": "call", "name": name, "args": list(args), "kwargs": dict(kwargs or {}), "mode": mode}
        try:
            reply = self._request(message, self.limits.call_timeout)
        except _OutOfTime:
            raise TotalTimeout(f"`{name}` did not return: {self.out_of_time_text()}") from None
        except _Timeout:
            self._timeouts[name] = self._timeouts.get(name, 0) + 1
            raise CallTimeout(f"`{name}` did not return within {limit}") from None
        except _Died as died:
            raise WorkerDied(f"the notebook's process {died} while `{name}` ran") from None
        status = reply.get("status")
        if status == "ok" and "value" in reply:
            return reply["value"]
        if status == "missing":
            kind = _text(reply.get("kind"))
            detail = f" (`{name}` is a {kind}, not a function)" if kind else ""
            raise MissingFunction(f"the notebook does not define a function `{name}`{detail}")
        if status == "raised":
            ename, evalue = _text(reply.get("ename")), _text(reply.get("evalue"))
            raise StudentException(f"`{name}` raised {ename}" + (f": {evalue}" if evalue else "")
                                   + self.limits.explain(ename, evalue))
        raise BadResult(f"`{name}` produced a reply the grader cannot read")

    def stats(self) -> dict[str, float]:
        """The current worker's peak memory (MiB) and CPU time, if it is running."""
        if not self._ready:
            return {}
        try:
            reply = self._request({"op": "stats"}, self.limits.call_timeout, budgeted=False)
        except (_Timeout, _Died):
            return {}
        value = reply.get("value")
        if not isinstance(value, dict):
            return {}
        return {k: float(v) for k, v in value.items()
                if isinstance(k, str) and isinstance(v, float | int) and not isinstance(v, bool) and _finite(v)}

    # ------------------------------------------------------------------ wire

    def out_of_time_text(self) -> str:
        """What running out of the total time limit did, as students read it."""
        return f"the notebook's code used up the total time limit ({self.limits.total_timeout:g} s)"

    def _request(self, message: dict[str, Any], timeout: float, budgeted: bool = True) -> dict[str, Any]:
        """Send one request and wait for its reply, enforcing its time limit and (``budgeted``) the total one."""
        worker = self._worker
        assert worker is not None
        cut = False
        if budgeted:
            if self.out_of_time:
                raise _OutOfTime
            left = self.limits.total_timeout - self._time_used
            cut, timeout = left < timeout, min(timeout, left)
        rid = self._next_id
        self._next_id += 1
        start = time.monotonic()
        try:
            codec.write_frame(worker.to_worker, codec.pack({"id": rid, **message}), time.monotonic() + timeout)
            return self._receive(rid, time.monotonic() + timeout)
        except _Timeout:
            worker.interrupt()
            try:
                self._receive(rid, time.monotonic() + self.limits.interrupt_grace)
            except (_Timeout, _Died):
                self._discard_worker(killed_by_us=True)
            if cut:  # the time used, added below, reaches the total
                raise _OutOfTime from None
            raise
        except (BrokenPipeError, TimeoutError) as exc:
            raise self._discard_worker() from exc
        finally:
            if budgeted:
                self._time_used += time.monotonic() - start

    def _receive(self, rid: int, deadline: float) -> dict[str, Any]:
        """The reply with id ``rid``, skipping late replies to earlier requests."""
        assert self._reader is not None
        while True:
            try:
                frame = self._reader.read(deadline)
                if frame is None:
                    raise _Timeout
                reply = codec.unpack(*frame, REPLY_EXTENSIONS)
            except (EOFError, OSError):
                raise self._discard_worker() from None
            except ProtocolError as exc:
                self._discard_worker(killed_by_us=True)
                raise _Died(f"sent data the grader refuses ({exc})") from None
            if not isinstance(reply, dict) or not isinstance(reply.get("id"), int):
                self._discard_worker(killed_by_us=True)
                raise _Died("sent a malformed reply")
            if reply["id"] == rid:
                return reply

    def _discard_worker(self, killed_by_us: bool = False) -> _Died:
        """Kill and forget the worker; the next request starts a new one."""
        worker = self._worker
        self._worker, self._reader, self._ready = None, None, False
        if worker is None:
            return _Died("is gone")
        if not killed_by_us:
            with contextlib.suppress(subprocess.TimeoutExpired):  # it may be on its way out: let it say why
                worker.popen.wait(timeout=1.0)
        worker.close()
        self.restarts += 1
        if killed_by_us:
            return _Died("was stopped")
        return _Died(_death_reason(worker.popen.returncode, self.limits.memory if worker.memory_exceeded else None))


def _death_reason(code: int | None, memory_limit: int | None = None) -> str:
    if memory_limit is not None:
        return f"was killed for going over the memory limit ({format_size(memory_limit)})"
    if code is None:
        return "stopped answering"
    if code >= 0:
        return f"exited with status {code} (sys.exit or os._exit?)"
    reasons = {
        signal.SIGKILL: "was killed (SIGKILL), probably for using too much memory",
        signal.SIGSEGV: "crashed (segmentation fault)",
        getattr(signal, "SIGXCPU", -1): "ran out of CPU time (the CPU time limit)",
    }
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return reasons.get(-code, f"was killed by {name}")


def _finite(value: int | float) -> bool:
    """Whether ``value`` is a finite float or an int one can hold: a student's process may send anything."""
    return math.isfinite(value) if isinstance(value, float) else abs(value) <= sys.float_info.max


def _text(value: object, limit: int = 20_000) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[:limit] + "..."


"""Workers forked from a warm zygote instead of started as fresh interpreters.

A fresh worker spends about 2.5 s importing torch, numpy and IPython before
it runs the first cell; a batch pays that once per slot instead. The zygote
(:mod:`grader.worker.zygote`) is itself a fresh interpreter with a worker's
scrubbed environment that has imported those libraries and nothing of the
grader's tests, reference or grades; it forks each worker, which then enters
its own control groups and jail exactly as a fresh one does. The process
that owns the :class:`Zygote` becomes a child subreaper, so a forked worker
is its child: it is waited for, killed and timed like a started one.

Standard library only (like :mod:`grader.sandbox.launch`): the slot starts
the zygote before it imports torch itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from grader.errors import SandboxError
from grader.sandbox.launch import WorkerProcess, prepare_worker, seed_matplotlib_cache, worker_environment
from grader.sandbox.leftovers import folder_prefix

PR_SET_CHILD_SUBREAPER = 36
REPLY_TIMEOUT = 60.0  # the first reply waits for the zygote's imports


class ForkedChild:
    """A worker forked by the zygote and re-parented to this process (the Popen calls the grader uses)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code once the worker has ended (negative: killed by that signal)."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # already waited for
                self.returncode = -signal.SIGKILL
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the worker to end; :class:`subprocess.TimeoutExpired` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
            time.sleep(0.002)
        return code

    def kill(self) -> None:
        """SIGKILL the worker if it still runs."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


class Zygote:
    """A warm process that forks sandboxed workers for this one; a context manager.

    Linux only. Raises :class:`SandboxError` when this process cannot become
    a subreaper or the zygote does not start; callers then start workers the
    usual way (:func:`grader.sandbox.launch.spawn_worker`).
    """

    def __init__(self, python: str = sys.executable, isolate: bool | None = None) -> None:
        if not sys.platform.startswith("linux"):
            raise SandboxError("a zygote needs Linux")
        _become_subreaper()
        self.python = python
        self.isolate = isolate
        self.home = Path(tempfile.mkdtemp(prefix=folder_prefix("zygote")))
        seed_matplotlib_cache(self.home / ".matplotlib")  # the zygote imports pyplot: no font list rebuild
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log = open(self.home / "zygote.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.popen = subprocess.Popen(
                [python, "-m", "grader.worker.zygote", str(theirs.fileno())],
                cwd=self.home, env=worker_environment(self.home, {}), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, pass_fds=(theirs.fileno(),), start_new_session=True,
            )
        finally:
            log.close()
            theirs.close()
        self.sock = ours
        self.sock.settimeout(REPLY_TIMEOUT)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def spawn(self, limits: Mapping[str, str]) -> WorkerProcess:
        """Fork a worker with these limits (the signature of ``spawn_worker``)."""
        self.reap_orphans()
        place = prepare_worker(limits, self.python, self.isolate)
        down_r, down_w = os.pipe()
        up_r, up_w = os.pipe()
        log = os.open(place.workdir / "worker-start.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        request = json.dumps({"env": place.env, "cwd": str(place.workdir)}).encode()
        try:
            socket.send_fds(self.sock, [request], [down_r, up_w, log])
            data = self.sock.recv(65536)
            reply = json.loads(data) if data else {"error": f"the zygote is gone ({self.log_tail()})"}
        except (OSError, ValueError) as error:
            reply = {"error": f"no reply from the zygote: {error}"}
        finally:
            for fd in (down_r, up_w, log):
                os.close(fd)
        if not isinstance(reply, dict) or not isinstance(reply.get("pid"), int):
            for fd in (down_w, up_r):
                os.close(fd)
            place.discard()
            why = reply.get("error") if isinstance(reply, dict) else reply
            raise SandboxError(f"the zygote could not fork a worker: {why}")
        return WorkerProcess(ForkedChild(reply["pid"]), down_w, up_r, place.workdir, place.base, place.cgroups)

    def reap_orphans(self) -> None:
        """Wait for children that are not ours to wait for (a jail's PID 1 outliving its parent)."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == self.popen.pid:
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.si_pid, 0)

    def alive(self) -> bool:
        """Whether the zygote still runs."""
        return self.popen.poll() is None

    def log_tail(self, limit: int = 500) -> str:
        """The end of what the zygote printed (why it stopped)."""
        with contextlib.suppress(OSError):
            return (self.home / "zygote.log").read_text(errors="replace")[-limit:].strip()
        return ""

    def close(self) -> None:
        """Stop the zygote and remove its directory."""
        self.sock.close()
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.reap_orphans()
        shutil.rmtree(self.home, ignore_errors=True)


def _become_subreaper() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(ctypes.c_int(PR_SET_CHILD_SUBREAPER), ctypes.c_ulong(1), 0, 0, 0) != 0:
        raise SandboxError(f"cannot become a child subreaper: {os.strerror(ctypes.get_errno())}")

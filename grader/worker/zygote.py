"""The zygote: a clean warm process that forks one sandboxed worker per request.

``python -m grader.worker.zygote SOCKET_FD``, started by
:class:`grader.sandbox.zygote.Zygote` as a fresh interpreter with a worker's
scrubbed environment. It imports what every worker imports (torch, numpy,
IPython: about 2.5 s) and what nearly every notebook imports (matplotlib's
pyplot and inline backend: 0.6 s), pinned to one thread, and nothing else: it never sees
a test, the reference or a grade, and never runs student code itself, so a
fork of it carries nothing a student may not see (``SANDBOX-NOTES.md``).

Each request on the socket is a JSON object (the worker's environment and
working directory) with three descriptors (the worker's two pipe ends and
its start-up log). The zygote forks twice: the middle process forks the
worker and exits at once, so the worker is re-parented to the grader's slot
(a child subreaper, which then waits for it as for any child), and the reply
is the worker's pid. The worker becomes a session leader, takes the given
environment, enters the jail (:mod:`grader.worker.jail`) and serves exactly
as a freshly started worker does (:func:`grader.worker.serve.main`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import signal
import socket
import sys
import traceback
from typing import Any

import matplotlib
import matplotlib.pyplot  # most notebooks plot: about 0.6 s saved per worker
import matplotlib_inline.backend_inline  # noqa: F401 - what `%matplotlib inline` loads
import torch

from grader.worker.jail import PR_SET_PDEATHSIG, enter_from_env, prctl
from grader.worker.serve import main as serve

MAX_REQUEST = 1 << 20


def run(sock: socket.socket) -> None:
    """Answer fork requests until the slot closes its end of the socket."""
    torch.set_num_threads(1)  # no OpenMP pool may exist before a fork
    # The libraries' objects never die: out of the collector's sight, a worker's
    # collections neither walk them nor copy their pages (copy-on-write).
    gc.collect()
    gc.freeze()
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, MAX_REQUEST, 3)
        except OSError:
            return
        if not data:
            return
        try:
            reply: dict[str, Any] = {"pid": fork_worker(json.loads(data), fds, sock)}
        except (ValueError, KeyError, TypeError, OSError) as error:
            reply = {"error": f"{type(error).__name__}: {error}"}
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        sock.send(json.dumps(reply).encode())


def fork_worker(request: dict[str, Any], fds: list[int], sock: socket.socket) -> int:
    """Fork a worker for ``request`` through a middle process; the worker's pid."""
    if len(fds) != 3 or not isinstance(request.get("env"), dict) or not isinstance(request.get("cwd"), str):
        raise ValueError("a request needs env, cwd and three descriptors")
    sys.stdout.flush()
    sys.stderr.flush()
    pid_r, pid_w = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(pid_r)
            worker = os.fork()
            if worker == 0:
                os.close(pid_w)
                become_worker(request, fds, sock)
            os.write(pid_w, str(worker).encode())
        finally:
            os._exit(0)
    os.close(pid_w)
    try:
        text = b""
        while chunk := os.read(pid_r, 32):
            text += chunk
    finally:
        os.close(pid_r)
        os.waitpid(middle, 0)
    return int(text)


def become_worker(request: dict[str, Any], fds: list[int], sock: socket.socket) -> None:
    """In the forked child: leave the zygote behind, enter the jail, serve; never returns."""
    code = 1
    try:
        sock.close()
        read_fd, write_fd, log_fd = fds
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        _close_all_but((0, 1, 2, read_fd, write_fd))
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # as for `python -m` started there: the notebook's own modules import
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request["env"].items()})
        _forget_matplotlib_dirs()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        layers, failures = enter_from_env(os.environ, [read_fd, write_fd])
        for failure in failures:
            print(f"grader worker: sandbox layer not applied: {failure}", file=sys.stderr, flush=True)
        serve(read_fd, write_fd, layers)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001 - a forked child must never return into the zygote's loop
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _forget_matplotlib_dirs() -> None:
    """matplotlib memoized the zygote's config and cache directories: find this worker's (MPLCONFIGDIR)."""
    for name in ("get_configdir", "get_cachedir"):
        memoized = getattr(matplotlib, name)
        setattr(matplotlib, name, functools.cache(getattr(memoized, "__wrapped__", memoized)))


def _close_all_but(keep: tuple[int, ...]) -> None:
    """Close every descriptor the zygote held except ``keep``."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


if __name__ == "__main__":
    with contextlib.suppress(OSError):
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # the slot is gone: so is the zygote
    run(socket.socket(fileno=int(sys.argv[1])))

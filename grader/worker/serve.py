"""The worker's request loop: run cells, then serve calls to the notebook's functions.

Requests and replies are codec frames on two inherited pipe descriptors; the
student's code never sees the standard streams of the grader (fd 1 and 2 go
to a file in the worker's own directory, Python-level output to a capped
buffer). Every reply carries the request's id. Operations:

- ``cell``: run one code cell; reply with its output and error, if any;
- ``call``: call a function defined by the notebook; ``mode`` is ``value``
  (the result), ``grad`` (result and autograd derivative of its sum with
  respect to the first argument) or ``args`` (result and the arguments as
  they are after the call, to check they were not modified);
- ``stats``: the worker's peak memory and CPU time;
- ``exit``: stop.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from grader import codec, samplers, torchexpr
from grader.worker.confine import apply_limits
from grader.worker.execute import CappedWriter, error_text, make_shell, run_cell, student_traceback


def main(read_fd: int, write_fd: int, jail_layers: Sequence[str] = ()) -> None:
    """Run the worker on its two pipe ends: confine, seed, serve until told to exit.

    ``jail_layers`` are the isolation layers :mod:`grader.worker.jail` applied
    before this module (and torch) was imported, or before the zygote's fork.
    """
    layers = apply_limits(os.environ, cgroup_memory="cgroup-memory" in jail_layers) + list(jail_layers)
    _redirect_standard_streams()
    torch.set_num_threads(1)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    shell = make_shell()
    out = CappedWriter(int(os.environ.get("GRADER_LIMIT_OUTPUT", 10 * 2**20)))
    extensions = {"fn": torchexpr.from_node, "dist": samplers.from_node, "generator": codec.decode_generator}
    reader = codec.FrameReader(read_fd)

    def reply(message: dict[str, Any]) -> None:
        try:
            frame = codec.pack(message)
        except BaseException as error:  # noqa: BLE001 - a student's value may break encoding
            frame = codec.pack({"id": message["id"], "status": "raised", "ename": "EncodingError",
                                "evalue": f"the result could not be sent: {error_text(error)}"})
        codec.write_frame(write_fd, frame)

    reply({"id": 0, "status": "ready", "sandbox": layers, "pid": os.getpid()})
    while True:
        try:
            frame = reader.read()
        except EOFError:
            return
        assert frame is not None
        request = codec.unpack(*frame, extensions)
        op, rid = request.get("op"), request.get("id")
        if op == "exit":
            return
        if op == "stats":
            reply({"id": rid, "status": "ok", "value": _stats()})
            continue
        if op == "cell":
            run = run_cell(shell, request["source"], out)
            reply({"id": rid, "status": "ok" if run.ok else "error", "output": run.output,
                   "ename": run.ename, "evalue": run.evalue, "traceback": run.traceback})
        elif op == "call":
            reply({"id": rid, **_call(shell.user_ns, request, out)})
            out.take()
        else:
            reply({"id": rid, "status": "error", "ename": "ProtocolError", "evalue": f"unknown op {op!r}"})


def _stats() -> dict[str, float]:
    """What this process used: peak resident memory (MiB) and CPU time (s)."""
    if sys.platform == "win32":
        return {}
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return {"peak_rss_mib": usage.ru_maxrss * scale / 2**20, "cpu_seconds": usage.ru_utime + usage.ru_stime}


def _redirect_standard_streams() -> None:
    """Point fd 0 at /dev/null and fds 1, 2 at a file in the working directory."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    log = os.open("worker-output.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)


def _call(namespace: dict[str, Any], request: dict[str, Any], out: Any) -> dict[str, Any]:
    """Call a notebook function as the request says; the reply's fields."""
    name, mode = request["name"], request.get("mode", "value")
    fn = namespace.get(name)
    if not callable(fn):
        return {"status": "missing", "kind": type(fn).__name__ if name in namespace else ""}
    args, kwargs = list(request.get("args", [])), dict(request.get("kwargs", {}))
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        value = _MODES[mode](fn, args, kwargs)
    except BaseException as error:  # noqa: BLE001 - student code may raise anything, SystemExit too
        return {"status": "raised", "ename": type(error).__name__, "evalue": error_text(error),
                "traceback": student_traceback(error)}
    finally:
        sys.stdout, sys.stderr = saved
    return {"status": "ok", "value": value}


def _value(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    return fn(*args, **kwargs)


def _with_args(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    result = fn(*args, **kwargs)
    return (result, tuple(_as_left(a) for a in args), {k: _as_left(v) for k, v in kwargs.items()})


def _as_left(value: Any) -> Any:
    """An argument as the function left it, as far as the wire can tell.

    A tensor travels as its values, never as requiring grad: one that does now
    (``x.requires_grad_()``, then ``backward`` filling ``x.grad``) was changed
    in place by the function, and comes back as a note saying so, which no
    check takes for the tensor it passed.
    """
    if isinstance(value, torch.Tensor) and (value.requires_grad or value.grad is not None):
        return "a tensor the function set to require grad"
    return value


def _grad(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    x = args[0].detach().clone().requires_grad_(True)
    y = fn(x, *args[1:], **kwargs)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(y).__name__}")
    if not y.requires_grad:
        raise TypeError("the result is not differentiable: it does not depend on the input through autograd")
    (grad,) = torch.autograd.grad(y.sum(), x, allow_unused=True)
    if grad is None:
        raise TypeError("the result does not depend on the input through autograd")
    return (y.detach(), grad)


_MODES: dict[str, Callable[[Callable[..., Any], list[Any], dict[str, Any]], Any]] = {
    "value": _value, "args": _with_args, "grad": _grad,
}


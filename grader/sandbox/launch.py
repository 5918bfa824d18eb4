"""Starting one clean worker process.

Standard library only, so that ``grader check`` can start the worker before
it imports torch itself: the two imports then overlap on a 2-core machine.
The worker is a fresh interpreter (never a fork of a process that holds tests,
the reference or grades) in its own session and process group, with a new
temporary working directory and a scrubbed environment; it talks to the grader
over two inherited pipes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grader

# Variables passed through unchanged: locating programs and libraries, and the
# OpenBLAS settings some processors here need to compute correctly.
PASSED_THROUGH = ("PATH", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH")


@dataclass
class WorkerProcess:
    """A running worker and the pipe ends the grader holds."""

    popen: subprocess.Popen[bytes]
    to_worker: int
    from_worker: int
    workdir: Path

    @property
    def pid(self) -> int:
        """The worker's process id (also its process group id)."""
        return self.popen.pid

    def interrupt(self) -> None:
        """Send SIGINT to the worker, as Jupyter's interrupt does."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.popen.pid, signal.SIGINT)

    def kill(self) -> None:
        """Kill the worker's whole process group and wait for the worker."""
        if sys.platform != "win32":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.kill()
        self.popen.wait()

    def close(self) -> None:
        """Kill the worker, close the pipes and remove the working directory."""
        self.kill()
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def startup_log(self, limit: int = 2000) -> str:
        """The tail of what the worker printed before it took over its streams."""
        try:
            text = (self.workdir / "worker-start.log").read_text(errors="replace")
        except OSError:
            return ""
        return text[-limit:].strip()


def worker_environment(workdir: Path, limits: Mapping[str, str]) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's but what it needs."""
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    package_parent = str(Path(grader.__file__).resolve().parent.parent)
    env.update({
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": package_parent,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        # One thread: torch's OpenMP pool must not exist before any fork (SANDBOX-NOTES.md).
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    })
    env.update(limits)
    return env


def spawn_worker(limits: Mapping[str, str], python: str = sys.executable) -> WorkerProcess:
    """Start a worker process; it announces itself with a ``ready`` frame."""
    workdir = Path(tempfile.mkdtemp(prefix="grader-worker-"))
    _seed_matplotlib_cache(workdir / ".matplotlib")
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    log = open(workdir / "worker-start.log", "wb")  # noqa: SIM115 - handed to the child
    try:
        popen = subprocess.Popen(
            [python, "-m", "grader.worker", str(down_r), str(up_w)],
            cwd=workdir,
            env=worker_environment(workdir, limits),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=(down_r, up_w),
            start_new_session=True,
        )
    except OSError:
        for fd in (down_r, down_w, up_r, up_w):
            os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        log.close()
    os.close(down_r)
    os.close(up_w)
    return WorkerProcess(popen, down_w, up_r, workdir)


def _seed_matplotlib_cache(target: Path) -> None:
    """Copy matplotlib's font list into the worker's fresh config directory.

    Without it matplotlib rebuilds the list in every worker, which costs about
    a second; the file holds font paths only.
    """
    base = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib"
    )
    target.mkdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith("fontlist") and n.endswith(".json")]
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):
            shutil.copyfile(os.path.join(base, name), target / name)

"""Starting one clean worker process.

Standard library only, so that ``grader check`` can start the worker before
it imports torch itself: the two imports then overlap on a 2-core machine.
The worker is a fresh interpreter (never a fork of a process that holds tests,
the reference or grades) in its own session and process group, with a new
temporary working directory and a scrubbed environment; it talks to the grader
over two inherited pipes.

On Linux the launcher also creates the worker's control groups
(:mod:`grader.sandbox.cgroups`) and tells the worker what its jail
(:mod:`grader.worker.jail`) may show of the file system: the Python
installation and the ``grader`` package directory, never the project root
with ``solutions/`` and the tests. ``GRADER_ISOLATION=off`` in the grader's
environment (or ``isolate=False``) turns the jail and the groups off, for
benchmarks and debugging.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grader
from grader.limits import Limits
from grader.sandbox.cgroups import WorkerCgroups, create_worker_cgroups
from grader.sandbox.leftovers import folder_prefix

# Variables passed through unchanged: locating programs and libraries, and the
# OpenBLAS settings some processors here need to compute correctly.
PASSED_THROUGH = ("PATH", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH")


class ChildProcess(Protocol):
    """What the grader needs of a worker's process: a :class:`subprocess.Popen` or a zygote's fork."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


@dataclass
class WorkerProcess:
    """A running worker and the pipe ends the grader holds."""

    popen: ChildProcess
    to_worker: int
    from_worker: int
    workdir: Path
    base: Path | None = None  # holds the working directory and the jail's mount point
    cgroups: WorkerCgroups = field(default_factory=WorkerCgroups)
    memory_exceeded: bool = False  # set by close(): the memory group's OOM killer struck

    @property
    def pid(self) -> int:
        """The worker's process id (also its process group id)."""
        return self.popen.pid

    def interrupt(self) -> None:
        """Send SIGINT to the worker, as Jupyter's interrupt does."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.popen.pid, signal.SIGINT)

    def memory_limit_hit(self) -> bool:
        """Whether the worker's memory group ran out of memory (the OOM killer struck)."""
        return self.memory_exceeded or self.cgroups.memory_limit_hit()

    def kill(self) -> None:
        """Kill everything the worker started and wait for the worker.

        Three paths, each enough alone: the control groups (``cgroup.kill``,
        which also reaches ``setsid`` escapees), the process group, and the
        outer worker process, whose death kills its PID namespace.
        """
        self.cgroups.kill()
        if sys.platform != "win32":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.kill()
        self.popen.wait()

    def close(self) -> None:
        """Kill the worker, close the pipes, remove the working directory and the groups."""
        self.kill()
        self.memory_exceeded = self.memory_limit_hit()
        self.cgroups.remove()
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.base or self.workdir, ignore_errors=True)

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


@dataclass
class WorkerPlace:
    """What a worker needs before it starts: its directories, environment and control groups."""

    base: Path
    workdir: Path
    env: dict[str, str]
    cgroups: WorkerCgroups

    def discard(self) -> None:
        """Remove the groups and the directories (the worker never started)."""
        self.cgroups.remove()
        shutil.rmtree(self.base, ignore_errors=True)


def prepare_worker(limits: Mapping[str, str], python: str = sys.executable,
                   isolate: bool | None = None) -> WorkerPlace:
    """A fresh working directory, the scrubbed environment and, when isolating, the groups and jail.

    ``isolate`` (default: unless ``GRADER_ISOLATION=off``) puts the worker in
    its control groups and jail on Linux, as far as the platform allows.
    """
    if isolate is None:
        isolate = os.environ.get("GRADER_ISOLATION", "").lower() not in ("off", "0", "no")
    base = Path(tempfile.mkdtemp(prefix=folder_prefix("worker")))
    workdir = base / "work"
    workdir.mkdir()
    seed_matplotlib_cache(workdir / ".matplotlib")
    env = worker_environment(workdir, limits)
    cgroups = WorkerCgroups()
    if isolate and sys.platform.startswith("linux"):
        defaults = Limits()  # for the limits ``limits`` leaves out
        cgroups = create_worker_cgroups(int(env.get("GRADER_LIMIT_MEMORY", defaults.memory)),
                                        int(env.get("GRADER_LIMIT_PROCESSES", defaults.processes)))
        (base / "root").mkdir()
        env[JAIL_VARIABLE] = jail_config(base / "root", workdir, python, cgroups,
                                         int(env.get("GRADER_LIMIT_DISK", defaults.disk)))
    return WorkerPlace(base, workdir, env, cgroups)


def spawn_worker(limits: Mapping[str, str], python: str = sys.executable,
                 isolate: bool | None = None) -> WorkerProcess:
    """Start a worker as a fresh interpreter; it announces itself with a ``ready`` frame."""
    place = prepare_worker(limits, python, isolate)
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    log = open(place.workdir / "worker-start.log", "wb")  # noqa: SIM115 - handed to the child
    try:
        popen = subprocess.Popen(
            [python, "-m", "grader.worker", str(down_r), str(up_w)],
            cwd=place.workdir,
            env=place.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=(down_r, up_w),
            start_new_session=True,
        )
    except OSError:
        for fd in (down_r, down_w, up_r, up_w):
            os.close(fd)
        place.discard()
        raise
    finally:
        log.close()
    os.close(down_r)
    os.close(up_w)
    return WorkerProcess(popen, down_w, up_r, place.workdir, place.base, place.cgroups)


# The variable of grader.worker.jail (not imported: that is the worker's side).
JAIL_VARIABLE = "GRADER_JAIL"


def jail_config(root: Path, workdir: Path, python: str, cgroups: WorkerCgroups, disk: int) -> str:
    """The worker's jail configuration, as JSON (the format of ``grader.worker.jail.JailConfig``)."""
    package = Path(grader.__file__).resolve().parent
    project = package.parent
    # A grader installed by pip (not editable, as in a student repository's CI) sits in site-packages,
    # which holds no solutions/ and must be bound whole: numpy and torch live there too.
    checkout = None if project.name in ("site-packages", "dist-packages") else project
    runtime = runtime_paths(python, checkout)
    bound = any(_inside(str(package), path) for path in runtime)
    return json.dumps({
        "root": str(root),
        "workdir": str(workdir),
        "readonly": [*runtime, *([] if bound else [str(package)])],
        # The worker's PYTHONPATH is the package's parent: the import system lists it (and sees only grader/).
        "listable": [str(project)],
        "cgroups": cgroups.procs_files(),
        "disk": disk,
    })


def runtime_paths(python: str, project: Path | None) -> list[str]:
    """The directories of the Python installation the worker needs, none holding the project.

    The prefixes (a venv's and its base), the site-packages directories and
    any other ``site-packages`` entry of ``sys.path``; a path that contains
    the project root (a source checkout) is left out (it would show
    ``solutions/``), and so is one inside the project unless it is inside a
    prefix (a venv in the clone). ``project`` None: no checkout to hide.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    executable = Path(os.path.realpath(python)).parent.parent
    candidates = {*prefixes, str(executable), *site.getsitepackages(),
                  *(p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p))}
    real = sorted({os.path.realpath(p) for p in candidates if os.path.isdir(p)})
    project_real = os.path.realpath(project) if project is not None else None
    kept: list[str] = []
    for path in real:
        if any(_inside(path, k) for k in kept):
            continue
        if project_real is not None and (_inside(project_real, path) or (
                _inside(path, project_real) and not any(_inside(path, p) for p in prefixes))):
            continue
        kept.append(path)
    return kept


def _inside(path: str, parent: str) -> bool:
    """Whether ``path`` is ``parent`` or below it (both real paths)."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def seed_matplotlib_cache(target: Path) -> None:
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

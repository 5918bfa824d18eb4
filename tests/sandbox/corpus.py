"""The adversarial corpus: hostile notebooks for the tiny assignment, and how to run one and inspect what it left.

Each :class:`Case` is a notebook that defines the tiny assignment's functions
(``add``, ``square``, ``halve``) correctly and then attacks: a cell or a
function that hangs, exits, kills, forks, allocates, floods, snoops, connects,
writes where it should not, patches libraries or forges results. Where the
attack is a cheat, the function it serves is correct *only if the cheat
worked*, so a cheat that works shows up as points that should not be there.

:func:`run_case` grades the notebook with the real command line
(``python -m grader check --solutions``, a subprocess, as a user runs it) on
copies of the tiny assignment and its solutions in a fresh folder, with the
grader's temporary directory inside that folder, and reports what happened:
the grade, the time, the processes the case left running and the files it
wrote outside the worker's own directory. Used by
``tests/sandbox/test_adversarial.py`` and ``benchmarks/adversarial_table.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parent.parent.parent
TINY = REPO / "tests" / "data" / "tiny"
TINY_SOLUTIONS = REPO / "tests" / "data" / "tiny_solutions"
PARTS = ("add", "square", "halve")
BASE = [
    "import builtins, os, pickle, signal, socket, subprocess, sys, time\nimport numpy as np\nimport torch",
    "def add(a, b):\n    return a + b",
    "def square(x):\n    return x * x",
    "def halve(x):\n    return x / 2",
]


@dataclass(frozen=True)
class Case:
    """A hostile notebook and the honest grade it must get.

    ``cells`` come after the correct base cells and may redefine functions;
    they are formatted with the run's ``token`` (a unique word the case's
    processes and files carry), ``port`` (a TCP server on 127.0.0.1 the test
    listens on), ``root`` (the run's folder: assignment, solutions, notebook,
    temporary directory) and ``repo`` (this project). ``lost`` names the parts
    that must score nothing; every other part must score full marks.
    ``says`` is a phrase the grade must contain (a cell error or a test
    message), ``None`` when there is nothing to say.
    """

    name: str
    cells: tuple[str, ...]
    lost: frozenset[str] = frozenset()
    says: str | None = None
    kind: str = "robustness"  # or "cheat": the attack tries to gain points
    limits: tuple[str, ...] = ()  # --limit NAME=VALUE overrides for this case


@dataclass
class Outcome:
    """What grading one case did."""

    case: Case
    exit_code: int
    seconds: float
    grade: dict[str, Any] | None
    stderr: str
    processes_left: list[str] = field(default_factory=list)
    files_outside: list[str] = field(default_factory=list)
    connections: int = 0

    @property
    def part_fractions(self) -> dict[str, float]:
        """Points earned / points possible for each of the tiny assignment's parts."""
        earned: dict[str, float] = {}
        possible: dict[str, float] = {}
        for question in (self.grade or {}).get("questions", []):
            for test in question["tests"]:
                earned[test["part"]] = earned.get(test["part"], 0.0) + test["points"]
                possible[test["part"]] = possible.get(test["part"], 0.0) + test["max_points"]
        return {p: earned[p] / possible[p] for p in possible}

    @property
    def text(self) -> str:
        """Everything the grade says: cell errors, test messages, warnings."""
        grade = self.grade or {}
        lines = [f"{e['ename']}: {e['evalue']}" for e in grade.get("cell_errors", [])]
        lines += [t["message"] for q in grade.get("questions", []) for t in q["tests"] if t["message"]]
        return "\n".join(lines + list(grade.get("warnings", [])))


def _p(*lines: str) -> str:
    return "\n".join(lines)


CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------ robustness
    Case("infinite loop in a cell", ("while True:\n    pass",), says="cell time limit"),
    Case("infinite loop in a function", ("def square(x):\n    while True:\n        pass",),
         lost=frozenset({"square"}), says="call time limit"),
    Case("loop ignoring SIGINT and SIGTERM", (_p(
        "def halve(x):",
        "    signal.signal(signal.SIGINT, signal.SIG_IGN)",
        "    signal.signal(signal.SIGTERM, signal.SIG_IGN)",
        "    while True:",
        "        pass"),), lost=frozenset({"halve"}), says="call time limit"),
    # A call within the call time limit (2 s) yet past the total time limit: add's first call is stopped at 1 s,
    # and nothing else is called.
    Case("a call within its time limit, past the total one", (_p(
        "import time",
        "def add(a, b):",
        "    time.sleep(1.5)",
        "    return a + b"),), lost=frozenset(PARTS), says="used up the total time limit (1 s)",
        limits=("total_timeout=1",)),
    Case("sys.exit in a cell", ("sys.exit(3)",), says="SystemExit"),
    Case("os._exit in a cell", ("os._exit(0)",), says="exited with status 0"),
    Case("sys.exit in a function", ("def halve(x):\n    sys.exit(0)",), lost=frozenset({"halve"}), says="SystemExit"),
    Case("os._exit in a function", ("def add(a, b):\n    os._exit(1)",), lost=frozenset({"add"}),
         says="exited with status 1"),
    # Inside its own PID namespace the worker is PID 1, which a signal from inside cannot kill: nothing happens.
    Case("killing its process group", (_p(
        "def add(a, b):",
        "    os.killpg(os.getpgrp(), signal.SIGKILL)",
        "    return a - b"),), lost=frozenset({"add"})),
    Case("killing its parent", (_p(
        "def add(a, b):",
        "    os.kill(os.getppid(), signal.SIGKILL)",
        "    time.sleep(0.2)",
        "    return a - b"),), lost=frozenset({"add"})),
    Case("killing the grader by name", (_p(
        "def add(a, b):",
        "    for pid in os.listdir('/proc'):",
        "        try:",
        "            if pid.isdigit() and b'grader\\0check' in open(f'/proc/{{pid}}/cmdline', 'rb').read() \\",
        "                    and int(pid) != os.getpid():",
        "                os.kill(int(pid), signal.SIGKILL)",
        "        except OSError:",
        "            pass",
        "    return a - b"),), lost=frozenset({"add"})),
    Case("bounded fork storm", (_p(
        "forked = 0",
        "for _ in range(100):",
        "    if os.fork() == 0:",
        "        os.execv('/bin/sleep', ['sleep', '{token}'])",
        "    forked += 1"),
        "def add(a, b):\n    return a + b if forked >= 100 else a - b"),
        lost=frozenset({"add"}), says="process limit", kind="cheat"),
    Case("allocating far past the memory limit", (_p(
        "def square(x):",
        "    hog = np.ones(2**34 // 8)  # 16 GiB",
        "    return x * x"),), lost=frozenset({"square"}), says="memory limit"),
    # A 512 MiB limit, so that the limit is reached well within the call's 2 s even on a loaded machine.
    Case("touching memory just past the limit", (_p(
        "def square(x):",
        "    hog = np.ones(1536 * 2**20 // 8)  # 1.5 GiB, written",
        "    return x * x"),), lost=frozenset({"square"}), says="memory limit", limits=("memory=512MiB",)),
    Case("printing hundreds of MB", (_p(
        "def halve(x):",
        "    for _ in range(300):",
        "        print('x' * 2**20)",
        "    return x / 2"),)),
    Case("flooding its standard output descriptor", (_p(
        "def halve(x):",
        "    for _ in range(300):",
        "        os.write(1, b'x' * 2**20)",
        "    return x / 2"),), lost=frozenset({"halve"}), says="file size limit"),
    Case("writing garbage to every descriptor", (_p(
        "def add(a, b):",
        "    for fd in range(256):",
        "        try:",
        "            os.write(fd, b'\\xff\\x00garbage' * 512)",
        "        except OSError:",
        "            pass",
        "    return a + b"),), lost=frozenset({"add"}), says="refuses"),
    Case("deep recursion", (_p(
        "def halve(x):",
        "    def down(n):",
        "        return down(n + 1) + 1",
        "    return down(0)"),), lost=frozenset({"halve"}), says="RecursionError"),
    Case("recursion past the C stack", (_p(
        "def halve(x):",
        "    sys.setrecursionlimit(10**8)",
        "    def down(n):",
        "        return down(n + 1) + 1",
        "    return down(0)"),), lost=frozenset({"halve"}), says="restarted"),  # a crash, or a time-out first
    # ------------------------------------------------------------------ cheats
    Case("reading the hidden tests and the reference", (_p(
        "found = []",
        "for path in ['{root}/solutions/tiny/hidden_tests/test_tiny_hidden.py',",
        "             '{root}/solutions/tiny/solution.ipynb',",
        "             '{repo}/tests/data/tiny_solutions/tiny/solution.ipynb']:",
        "    try:",
        "        found.append(open(path).read())",
        "    except OSError:",
        "        pass",
        "deadline = time.monotonic() + 1.0",
        "for top in ['/', '{root}', '{repo}', '/root', '/home', '/tmp']:",
        "    for folder, dirs, files in os.walk(top):",
        "        if time.monotonic() > deadline:",
        "            break",
        "        if 'hidden_tests' in dirs or 'solution.ipynb' in files:",
        "            found.append(folder)"),
        "def add(a, b):\n    return a + b if found else a - b"),
        lost=frozenset({"add"}), kind="cheat"),
    Case("connecting to a server on 127.0.0.1", (_p(
        "try:",
        "    socket.create_connection(('127.0.0.1', {port}), timeout=1).close()",
        "    connected = True",
        "except OSError:",
        "    connected = False"),
        "def add(a, b):\n    return a + b if connected else a - b"),
        lost=frozenset({"add"}), kind="cheat"),
    Case("rewriting the tests and planting a conftest.py", (_p(
        "wrote = []",
        "passing = 'import pytest\\n@pytest.hookimpl(hookwrapper=True)\\n'"
        " + 'def pytest_runtest_makereport(item, call):\\n    outcome = yield\\n'"
        " + '    outcome.get_result().outcome = \"passed\"\\n'",
        "for path in ['{root}/tiny/tests/conftest.py', '{root}/solutions/tiny/hidden_tests/conftest.py',",
        "             '{root}/conftest.py']:",
        "    try:",
        "        open(path, 'w').write(passing)",
        "        wrote.append(path)",
        "    except OSError:",
        "        pass",
        "for path in ['{root}/tiny/tests/test_tiny.py', '{root}/solutions/tiny/hidden_tests/test_tiny_hidden.py']:",
        "    try:",
        "        open(path, 'a').write('\\n\\ndef test_free_points():\\n    pass\\n')",
        "        wrote.append(path)",
        "    except OSError:",
        "        pass"),
        "def add(a, b):\n    return a - b"),
        lost=frozenset({"add"}), kind="cheat"),
    Case("writing outside its directory", (_p(
        "escaped = []",
        "for path in ['/root/.{token}', '/tmp/{token}', '/var/tmp/{token}', '{root}/{token}', '{repo}/{token}']:",
        "    try:",
        "        open(path, 'w').write('x')",
        "        escaped.append(path)",
        "    except OSError:",
        "        pass"),
        "def add(a, b):\n    return a + b if escaped else a - b"),
        lost=frozenset({"add"}), kind="cheat"),
    Case("patching torch, numpy and builtins", (_p(
        "torch.equal = lambda *a, **k: True",
        "torch.allclose = lambda *a, **k: True",
        "torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)",
        "np.allclose = lambda *a, **k: True",
        "builtins.isinstance = lambda obj, cls: True"),
        "def square(x):\n    return x + 1"),
        lost=frozenset({"square"}), kind="cheat"),
    Case("a rigged __eq__", (_p(
        "class Rigged:",
        "    def __eq__(self, other):",
        "        return True",
        "    __hash__ = object.__hash__",
        "def add(a, b):",
        "    return Rigged()"),), lost=frozenset({"add"}), says="Rigged", kind="cheat"),
    Case("a tensor subclass with __torch_function__", (_p(
        "class Liar(torch.Tensor):",
        "    @classmethod",
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):",
        "        return True",
        "def square(x):",
        "    return torch.zeros(3).as_subclass(Liar)"),), lost=frozenset({"square"}), kind="cheat"),
    Case("an object array and a pickle payload", (
        "def add(a, b):\n    return np.array([a + b], dtype=object)",
        "def halve(x):\n    return pickle.dumps(x / 2)"), lost=frozenset({"add", "halve"}), kind="cheat"),
)


def case_by_name(name: str) -> Case:
    """The case called ``name``."""
    return next(c for c in CASES if c.name == name)


@contextmanager
def loopback_server() -> Iterator[tuple[int, list[int]]]:
    """A TCP server on 127.0.0.1: its port, and a list that counts the connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        server.close()


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _leftover_processes(token: str, root: Path) -> list[str]:
    """Processes carrying the case's token in their command line or the run's folder in their environment."""
    found = []
    needles = (token.encode(), str(root).encode())
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            environ = Path(f"/proc/{name}/environ").read_bytes()
        except OSError:
            continue
        if needles[0] in cmdline or any(n in environ for n in needles):
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{name}: {command[:80]}")
    return found


def run_case(case: Case, workspace: Path, timeout: float = 300.0) -> Outcome:
    """Grade the case's notebook with ``grader check`` in ``workspace`` (an empty folder) and inspect the traces."""
    token = f"grader-adversary-{os.getpid()}-{time.monotonic_ns()}"
    root = workspace.resolve()
    assignment = root / "tiny"
    solutions = root / "solutions"
    shutil.copytree(TINY, assignment)
    shutil.copytree(TINY_SOLUTIONS, solutions)
    temp = root / "tmp"
    temp.mkdir()
    with loopback_server() as (port, accepted):
        cells = [c.format(token=token, port=port, root=root, repo=REPO) for c in case.cells]
        nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
        nb.cells = [nbformat.v4.new_code_cell(src) for src in BASE + cells]  # type: ignore[no-untyped-call]
        nb.metadata["grader"] = {"assignment": "tiny"}
        notebook = root / "submission.ipynb"
        nbformat.write(nb, notebook)  # type: ignore[no-untyped-call]
        protected = {p: _tree_digest(p) for p in (assignment, solutions)}
        protected_files = {p: p.read_bytes() for p in (notebook,)}
        grade_path = root / "grade.json"
        env = {**os.environ, "TMPDIR": str(temp)}
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "grader", "check", str(notebook), "--assignment", str(assignment),
                 "--solutions", str(solutions), "--json", str(grade_path),
                 *(arg for limit in case.limits for arg in ("--limit", limit))],
                capture_output=True, text=True, timeout=timeout, env=env, cwd=root)
            code, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired:
            code, stderr = -1, "timed out"
        seconds = time.perf_counter() - start
        connections = len(accepted)
    grade = json.loads(grade_path.read_text()) if grade_path.is_file() else None
    files = [f"{p} changed" for p, digest in protected.items() if _tree_digest(p) != digest]
    files += [f"{p} changed" for p, data in protected_files.items() if p.read_bytes() != data]
    files += [str(p) for p in temp.iterdir()]
    for stray in (Path(f"/root/.{token}"), Path(f"/tmp/{token}"), Path(f"/var/tmp/{token}"), root / token,
                  REPO / token):
        if stray.exists():
            files.append(str(stray))
            stray.unlink()
    leftovers = _leftover_processes(token, root)
    for _ in range(20):  # the kernel reaps orphans slowly here: give stragglers a moment before counting them
        if not leftovers:
            break
        time.sleep(0.25)
        leftovers = _leftover_processes(token, root)
    return Outcome(case, code, seconds, grade, stderr, leftovers, files, connections)

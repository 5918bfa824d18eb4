"""The worker's isolation layers, checked from inside real workers (Linux; all layers when run as root)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import grader
from grader.limits import Limits
from grader.proxy import Submission
from grader.sandbox.launch import spawn_worker
from grader.sandbox.session import WorkerSession
from grader.worker.jail import ENV_VAR, JailConfig

REPO = Path(grader.__file__).resolve().parent.parent  # the project whose grader/ the worker sees

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the jail is Linux only")]

AS_ROOT = os.geteuid() == 0
ALL_LAYERS = {"process", "process-group", "rlimit-as", "rlimit-cpu", "rlimit-fsize", "rlimit-nofile", "rlimit-nproc",
              "netns", "ipcns", "utsns", "pidns", "mountns", "uid", "no-new-privs", "seccomp",
              "cgroup-memory", "cgroup-pids", "cgroup-kill"}
LIMITS = Limits(cell_timeout=20, call_timeout=10, interrupt_grace=2, processes=16)

HELPERS = [
    "import os, sys, time, ctypes, socket, subprocess",
    # Evaluate an expression in the worker: ['ok', repr] or ['error', 'Type: message'].
    "def attempt(expr):\n"
    "    try:\n"
    "        return ['ok', repr(eval(expr))]\n"
    "    except BaseException as e:\n"
    "        return ['error', f'{type(e).__name__}: {e}']",
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def raw(name, *args):\n"
    "    ctypes.set_errno(0)\n"
    "    result = getattr(libc, name)(*args)\n"
    "    return [result, ctypes.get_errno()]",
]


def need(session: WorkerSession, *layers: str) -> None:
    """Fail as root (every layer must work here), skip elsewhere when a layer is not active."""
    missing = [layer for layer in layers if layer not in session.sandbox]
    if missing and AS_ROOT:
        pytest.fail(f"layers {missing} are not active: {session.sandbox}")
    if missing:
        pytest.skip(f"layers {missing} are not active on this platform")


@pytest.fixture(scope="module")
def session() -> Iterator[WorkerSession]:
    with WorkerSession(LIMITS) as s:
        assert [o.status for o in s.run_notebook(HELPERS)] == ["ok"] * len(HELPERS)
        yield s


@pytest.fixture
def sub(session: WorkerSession) -> Submission:
    return Submission(session)


def test_the_sandbox_field_lists_the_layers(session: WorkerSession) -> None:
    if AS_ROOT:
        assert set(session.sandbox) == ALL_LAYERS
    assert {"process", "rlimit-as"} <= set(session.sandbox)


def test_no_network_loopback_included(session: WorkerSession, sub: Submission) -> None:
    need(session, "netns")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        port = server.getsockname()[1]
        status, text = sub.attempt(f"socket.create_connection(('127.0.0.1', {port}), timeout=2)")
        assert status == "error" and text.startswith("OSError"), text
        with pytest.raises(TimeoutError):
            server.accept()  # nothing came in
    # A cell doing it gets an error, and the notebook goes on.
    outcomes = session.run_notebook([*HELPERS, f"socket.create_connection(('127.0.0.1', {port}), timeout=2)", "x = 1"])
    assert [o.status for o in outcomes[-2:]] == ["error", "ok"]
    assert sub.attempt("[n for _, n in socket.if_nameindex()]") == ["ok", "['lo']"]


def test_the_project_and_homes_are_invisible(session: WorkerSession, sub: Submission) -> None:
    need(session, "mountns")
    status, listing = sub.attempt(f"os.listdir({str(REPO)!r})")
    assert status == "error" or ("solutions" not in listing and "tests" not in listing), listing
    solution = REPO / "solutions" / "optimization_intro" / "solution.ipynb"
    assert sub.attempt(f"open({str(solution)!r}).read()")[0] == "error"
    assert sub.attempt(f"open({str(Path(__file__).resolve())!r}).read()")[0] == "error"
    assert sub.attempt("os.listdir('/root')") in (["ok", "[]"], ["error", "PermissionError: [Errno 13] Permission "
                                                                       "denied: '/root'"])
    assert sub.attempt("os.listdir('/home')")[0] == "error"
    assert sub.attempt("os.path.exists('/sys/fs/cgroup')") == ["ok", "False"]
    # Python and the grader package stay importable; the library's files are there.
    assert sub.attempt("__import__('grader.codec').__name__") == ["ok", "'grader'"]


def test_writing_outside_the_working_directory_fails(session: WorkerSession, sub: Submission) -> None:
    need(session, "mountns")
    for path in ("/tmp/escape", "/escape", "/usr/escape", "/etc/passwd", f"{sys.prefix}/escape"):
        assert sub.attempt(f"open({path!r}, 'a')")[0] == "error", path
    assert sub.attempt("open('inside.txt', 'w').write('x')") == ["ok", "1"]
    # multiprocessing's locks need /dev/shm (a small tmpfs of the worker's own).
    assert sub.attempt("__import__('multiprocessing').Lock().acquire()") == ["ok", "True"]


def test_unprivileged_uid_and_own_pid_namespace(session: WorkerSession, sub: Submission) -> None:
    need(session, "pidns")
    pid = int(sub.attempt("os.getpid()")[1])
    assert pid == 1
    assert sub.attempt(f"os.kill({os.getpid()}, 0)")[0] == "error"  # the grader is not even visible
    assert sub.attempt("sorted(int(p) for p in os.listdir('/proc') if p.isdigit())") == ["ok", "[1]"]
    if AS_ROOT:
        need(session, "uid")
        assert int(sub.attempt("os.getuid()")[1]) != 0
        assert int(sub.attempt("os.getgid()")[1]) != 0
        assert sub.attempt("os.getgroups()") == ["ok", "[]"]


def test_dangerous_system_calls_are_denied(session: WorkerSession, sub: Submission) -> None:
    need(session, "seccomp", "no-new-privs")
    eperm, enosys = 1, 38
    assert sub.raw("ptrace", 0, 0, 0, 0) == [-1, eperm]  # PTRACE_TRACEME
    assert sub.raw("mount", b"none", b"/tmp", b"tmpfs", 0, None) == [-1, eperm]
    assert sub.raw("unshare", 0x10000000) == [-1, eperm]  # CLONE_NEWUSER
    assert sub.raw("syscall", 435, 0, 0) == [-1, enosys]  # clone3: libc falls back to clone
    assert sub.attempt("int(open('/proc/self/status').read().split('NoNewPrivs:')[1].split()[0])") == ["ok", "1"]
    # Threads and subprocesses still work.
    assert sub.attempt("subprocess.run(['true']).returncode") == ["ok", "0"]
    assert sub.attempt("__import__('concurrent.futures').futures.ThreadPoolExecutor(2).submit(lambda: 7).result()") \
        == ["ok", "7"]


def test_torch_under_the_default_limits() -> None:
    with WorkerSession(Limits(cell_timeout=30)) as s:
        outcomes = s.run_notebook(["import torch\ny = float((torch.ones(64, 64) @ torch.ones(64, 64)).sum())",
                                   "print(y)"])
        assert [o.status for o in outcomes] == ["ok", "ok"] and outcomes[1].output == f"{64.0**3}\n"
        if AS_ROOT:
            assert {"cgroup-memory", "mountns", "seccomp"} <= set(s.sandbox)


FORK_STORM = """
def fork_storm(cap):
    pids, error = [], ''
    for _ in range(cap):
        try:
            pid = os.fork()
        except OSError as e:
            error = type(e).__name__
            break
        if pid == 0:
            time.sleep(120)
            os._exit(0)
        pids.append(pid)
    return [len(pids), error]
"""


def test_a_fork_storm_stops_at_the_process_limit_and_nothing_survives_close() -> None:
    with WorkerSession(LIMITS) as s:
        s.run_notebook([*HELPERS, FORK_STORM])
        need(s, "cgroup-pids")
        started, error = Submission(s).fork_storm(500)
        assert error == "BlockingIOError" and started < LIMITS.processes + 16, (started, error)
        uid = int(Submission(s).attempt("os.getuid()")[1])
        assert s._worker is not None
        worker, cgroups = s._worker, dict(s._worker.cgroups.groups)
        assert len(processes_of_uid(uid)) > started if AS_ROOT else True
    assert not processes_of_uid(uid) if AS_ROOT else True
    assert worker.popen.returncode is not None and not worker.workdir.exists()
    assert worker.base is not None and not worker.base.exists()
    assert cgroups and not any(path.exists() for path in cgroups.values())


def test_a_submission_past_the_memory_limit_is_killed_and_the_grader_knows() -> None:
    with WorkerSession(Limits(cell_timeout=60, memory=512 * 2**20)) as s:
        outcomes = s.run_notebook(["import numpy as np\nx = np.ones(int(1.5 * 2**30) // 8)\nprint(x.sum())",
                                   "print('after')"])
        need(s, "cgroup-memory")
    assert outcomes[0].status == "crashed", outcomes[0]
    assert "over the memory limit (512 MiB)" in outcomes[0].evalue
    assert outcomes[1].status == "ok" and outcomes[1].output == "after\n"


def test_the_working_directory_holds_the_disk_limit_all_files_together_and_not_on_the_graders_disk() -> None:
    """Files of 6 MiB, under the 64 MiB file size limit, filled the grader's /tmp until the batch could not record."""
    cells = ["import os\nfor i in range(3):\n"
             "    with open(f'part{i}.bin', 'wb') as f:\n        f.write(b'x' * 6 * 2**20)",
             "print(sorted(name for name in os.listdir('.') if name.endswith('.bin')))"]
    with WorkerSession(Limits(cell_timeout=30, disk=16 * 2**20)) as s:
        outcomes = s.run_notebook(cells)
        need(s, "mountns")
        assert s._worker is not None
        on_the_host = sorted(path.name for path in s._worker.workdir.glob("*.bin"))
    assert outcomes[0].status == "error" and outcomes[0].ename == "OSError", outcomes[0]
    assert outcomes[0].evalue == "[Errno 28] No space left on device (the disk limit is 16 MiB, all files together)"
    assert outcomes[1].output == "['part0.bin', 'part1.bin', 'part2.bin']\n"  # the third, cut short
    assert on_the_host == []


def test_isolation_can_be_turned_off() -> None:
    with WorkerSession(LIMITS, spawn=lambda env: spawn_worker(env, isolate=False)) as s:
        s.run_notebook(["x = 1"])
        assert not {"netns", "mountns", "pidns", "seccomp", "cgroup-memory"} & set(s.sandbox)


def processes_of_uid(uid: int) -> list[int]:
    """Live (not zombie) processes owned by ``uid``, as the host sees them."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        found.append(int(name))
            except OSError:
                continue
    return found


def test_close_leaves_nothing_even_after_setsid() -> None:
    with WorkerSession(LIMITS) as s:
        s.run_notebook(["import subprocess\np = subprocess.Popen(['setsid', 'sleep', '300'])\nimport time\n"
                        "time.sleep(0.5)"])
        assert s._worker is not None
        worker = s._worker
        members = worker.cgroups.members()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") and not zombie(p) for p in members):
        time.sleep(0.05)
    assert not [p for p in members if os.path.exists(f"/proc/{p}") and not zombie(p)]


def zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


UNPRIVILEGED_PROBE = """
import json, os, socket, sys
from grader.worker.jail import enter_from_env
layers, failures = enter_from_env(os.environ, [])
checks = {"pid": os.getpid(), "project": sorted(os.listdir(sys.argv[1]))}
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
except OSError as error:
    checks["network"] = type(error).__name__
try:
    open("/usr/escape", "w")
except OSError as error:
    checks["write"] = type(error).__name__
print(json.dumps({"layers": layers, "failures": failures, "checks": checks}))
"""


@pytest.mark.skipif(not (AS_ROOT and os.path.exists("/usr/bin/python3") and shutil.which("setpriv")),
                    reason="needs root (to become nobody), a system python3 and setpriv")
def test_a_non_root_user_gets_a_user_namespace_and_the_other_layers() -> None:
    """The laptop case: nobody, no cgroups; the jail alone (the system Python, no torch needed)."""
    base = Path(tempfile.mkdtemp(prefix="grader-jail-test-"))
    try:
        (base / "work").mkdir()
        (base / "root").mkdir()
        for path in (base, base / "work", base / "root"):
            os.chown(path, 65534, 65534)
        base.chmod(0o755)
        config = JailConfig(root=str(base / "root"), workdir=str(base / "work"),
                            readonly=[str(Path(grader.__file__).resolve().parent)],  # /usr is always bound
                            listable=[str(REPO)])
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), ENV_VAR: config.to_json()}
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3",
                               "-c", UNPRIVILEGED_PROBE, str(REPO)], env=env, cwd=base / "work",
                              capture_output=True, text=True, timeout=60)
        if "ModuleNotFoundError" in proc.stderr or "readable" in proc.stderr:
            pytest.skip(f"the system Python cannot import this checkout as nobody: {proc.stderr[-300:]}")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert report["layers"] == ["userns", "netns", "ipcns", "utsns", "pidns", "mountns", "no-new-privs", "seccomp"]
    assert report["failures"] == []
    assert report["checks"] == {"pid": 1, "project": ["grader"], "network": "OSError", "write": "OSError"}

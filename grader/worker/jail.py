"""Operating-system isolation the worker puts itself in before it imports anything heavy (Linux).

Standard library only (``ctypes`` for the system calls Python 3.11 lacks); it
runs first in a fresh, single-threaded worker, before student code and before
torch. Each layer is applied where the platform allows and reported by name;
a refused layer is skipped, never fatal:

- ``cgroup-memory``, ``cgroup-pids``, ``cgroup-kill``: join the groups the
  grader created (see :mod:`grader.sandbox.cgroups`);
- ``userns``: an unprivileged user namespace, for non-root users only, which
  makes the other namespaces possible;
- ``ipcns``, ``utsns``: System V IPC and host name of its own;
- ``netns``: a new network namespace with only ``lo``, down: no connection at
  all, loopback included;
- ``pidns``: a new PID namespace; the process forks, the child is its PID 1
  and becomes the worker, the parent stays outside, forwards SIGINT and
  SIGTERM and exits with the child's status. When PID 1 dies, the kernel kills
  everything in the namespace;
- ``mountns``: a private mount namespace whose root is a new tmpfs holding
  only bind mounts of what the worker needs (an allow-list), a fresh /proc and
  a minimal /dev, then ``pivot_root``;
- ``uid``: when run as root, a uid and gid of its own (no groups), so that
  RLIMIT_NPROC counts this worker only;
- ``no-new-privs`` and ``seccomp``: a BPF filter denying system calls the
  worker never needs (x86_64 only).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import signal
import struct
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

ENV_VAR = "GRADER_JAIL"

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                   | CLONE_NEWPID | CLONE_NEWNET)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
# statvfs flags that a read-only remount must keep (the kernel refuses to drop locked ones).
_KEPT_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
               os.ST_NOATIME: 1024, os.ST_NODIRATIME: 2048, os.ST_RELATIME: 1 << 21}

PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 22, 38
SECCOMP_MODE_FILTER = 2

# Where the grader runs as root, worker uids are UID_BASE + the outer worker's pid:
# unique among the workers alive on this machine, and far from any real account.
UID_BASE = 2_000_000_000

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/alternatives")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/nsswitch.conf", "/etc/host.conf", "/etc/mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom")


class JailError(OSError):
    """A system call of the jail failed."""


@dataclass(frozen=True)
class JailConfig:
    """What the grader tells the worker about its jail (sent as JSON in ``GRADER_JAIL``)."""

    root: str  # an empty directory to mount the new root on
    workdir: str  # writable at the same path: a copy on a tmpfs of ``disk`` bytes, or bound if ``disk`` is 0
    readonly: Sequence[str] = ()  # bound read-only at the same path
    listable: Sequence[str] = ()  # directories on the way to a bound path that may be listed
    cgroups: Mapping[str, str] = field(default_factory=dict)  # hierarchy -> its cgroup.procs file
    disk: int = 0

    @classmethod
    def from_json(cls, text: str) -> JailConfig:
        """Parse the grader's JSON; raise ValueError if it is not a config."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a jail configuration")
        return cls(root=str(data["root"]), workdir=str(data["workdir"]),
                   readonly=[str(p) for p in data.get("readonly", [])],
                   listable=[str(p) for p in data.get("listable", [])],
                   cgroups={str(k): str(v) for k, v in dict(data.get("cgroups", {})).items()},
                   disk=int(data.get("disk", 0)))

    def to_json(self) -> str:
        """The config as the grader passes it to the worker."""
        return json.dumps({"root": self.root, "workdir": self.workdir, "readonly": list(self.readonly),
                           "listable": list(self.listable), "cgroups": dict(self.cgroups), "disk": self.disk})


# ------------------------------------------------------------------ system calls


def _libc() -> ctypes.CDLL:
    # The interpreter is linked against libc: no need for ctypes.util.find_library, which runs ldconfig.
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise JailError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    """Move this process into new namespaces (``flags``: CLONE_NEW*)."""
    _check(_libc().unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2); raise JailError on failure."""
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)
    _check(_libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def prctl(option: int, arg: int = 0) -> None:
    """prctl(2) with one integer argument; raise JailError on failure."""
    zero = ctypes.c_ulong(0)
    _check(_libc().prctl(ctypes.c_int(option), ctypes.c_ulong(arg), zero, zero, zero), f"prctl {option}")


_SYSCALLS = {  # the system calls the jail uses or denies, by architecture
    "x86_64": {"pivot_root": 155},
    "aarch64": {"pivot_root": 41},
}


def pivot_into(new_root: str) -> None:
    """Make ``new_root`` this mount namespace's root and detach the old one."""
    number = _SYSCALLS.get(os.uname().machine, {}).get("pivot_root")
    if number is None:
        raise JailError(errno.ENOSYS, "pivot_root: unknown architecture")
    os.chdir(new_root)
    _check(_libc().syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    _check(_libc().umount2(b".", ctypes.c_int(MNT_DETACH)), "umount old root")
    os.chdir("/")


# ------------------------------------------------------------------ the new root


def _mkdirs(root: str, path: str, listable: Sequence[str]) -> str:
    """Create ``path`` under ``root``; directories on the way can be traversed, not listed."""
    target = root
    current = ""
    for part in path.strip("/").split("/"):
        current += "/" + part
        target = os.path.join(target, part)
        if not os.path.isdir(target):
            os.mkdir(target, 0o755 if current in listable else 0o711)
            os.chmod(target, 0o755 if current in listable else 0o711)  # mkdir's mode is masked by umask
    return target


def _bind(root: str, path: str, listable: Sequence[str], readonly: bool) -> None:
    """Bind ``path`` at the same path under ``root``; symbolic links are copied as links."""
    if os.path.islink(path):
        parent = _mkdirs(root, os.path.dirname(path), listable) if os.path.dirname(path) != "/" else root
        os.symlink(os.readlink(path), os.path.join(parent, os.path.basename(path)))
        return
    if os.path.isdir(path):
        target = _mkdirs(root, path, listable)
    else:
        parent = _mkdirs(root, os.path.dirname(path), listable) if os.path.dirname(path) != "/" else root
        target = os.path.join(parent, os.path.basename(path))
        with open(target, "a"):
            pass
    mount(path, target, None, MS_BIND | MS_REC)
    kept = _kept_flags(path)
    if readonly:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | kept)
    else:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | kept)


def _kept_flags(path: str) -> int:
    try:
        flags = os.statvfs(path).f_flag
    except OSError:
        return 0
    return sum(ms for st, ms in _KEPT_FLAGS.items() if flags & st)


def make_root(config: JailConfig, uid: int, gid: int) -> None:
    """Mount a tmpfs on ``config.root`` holding only what the worker needs."""
    root = config.root
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks out, nothing comes in
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    listable = list(config.listable)
    for path in [*SYSTEM_PATHS, *ETC_FILES, *config.readonly]:
        if os.path.lexists(path) and os.path.realpath(path) != os.path.realpath(root):
            _bind(root, path, listable, readonly=True)
    if config.disk:
        # Not the grader's disk: what the notebook writes, all files together, is held to ``disk`` bytes
        # (in the memory group, like any tmpfs page). The grader's seeds (matplotlib's cache) are copied in.
        work = _mkdirs(root, config.workdir, listable)
        mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0755,size={config.disk}")
        shutil.copytree(config.workdir, work, symlinks=True, dirs_exist_ok=True)
    else:
        _bind(root, config.workdir, listable, readonly=False)
    dev = _mkdirs(root, "/dev", ["/dev"])
    for name in DEVICES:
        with open(os.path.join(dev, name), "a"):
            pass
        mount(f"/dev/{name}", os.path.join(dev, name), None, MS_BIND)
    # multiprocessing's locks and queues need POSIX shared memory; it counts against the memory group.
    shm = _mkdirs(root, "/dev/shm", ["/dev"])
    mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))
    proc = _mkdirs(root, "/proc", ["/proc"])
    mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    etc = _mkdirs(root, "/etc", ["/etc"])
    home = config.workdir
    with open(os.path.join(etc, "passwd"), "w") as f:
        f.write(f"root:x:0:0:root:/:/usr/sbin/nologin\nstudent:x:{uid}:{gid}:student:{home}:/usr/sbin/nologin\n")
    with open(os.path.join(etc, "group"), "w") as f:
        f.write(f"root:x:0:\nstudent:x:{gid}:\n")
    for name in ("passwd", "group"):
        os.chmod(os.path.join(etc, name), 0o644)


def enter_root(config: JailConfig) -> None:
    """Pivot into the prepared root, make it read-only and go to the working directory."""
    pivot_into(config.root)
    mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(config.workdir)


# ------------------------------------------------------------------ identity


def drop_privileges(uid: int, gid: int, workdir: str) -> None:
    """Give the working directory to ``uid`` and become it, with no supplementary groups."""
    for top, dirs, files in os.walk(workdir):
        for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
            os.lchown(name, uid, gid)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def enter_user_namespace(flags: int) -> None:
    """For a non-root user: new namespaces inside a user namespace where the user is root."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER | flags)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def no_new_privs() -> None:
    """Neither this process nor its children can gain privileges (setuid files, file caps)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


# ------------------------------------------------------------------ seccomp

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ERRNO, SECCOMP_RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_JSET_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x45, 0x06

# x86_64 numbers of the system calls a notebook never needs and an attacker would.
DENIED_X86_64 = {
    "ptrace": 101, "syslog": 103, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166, "swapon": 167,
    "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171, "iopl": 172, "ioperm": 173,
    "init_module": 175, "delete_module": 176, "quotactl": 179, "pivot_root": 155, "chroot": 161,
    "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
    "perf_event_open": 298, "name_to_handle_at": 303, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313, "kexec_file_load": 320,
    "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "pidfd_getfd": 438, "mount_setattr": 442,
}
CLONE_X86_64, CLONE3_X86_64 = 56, 435


def seccomp_program() -> list[tuple[int, int, int, int]]:
    """The BPF filter: (code, jt, jf, k) instructions, for x86_64."""
    def ret(value: int) -> tuple[int, int, int, int]:
        return (BPF_RET_K, 0, 0, value)
    eperm, enosys = SECCOMP_RET_ERRNO | errno.EPERM, SECCOMP_RET_ERRNO | errno.ENOSYS
    program = [
        (BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        ret(SECCOMP_RET_KILL_PROCESS),
        (BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),  # the x32 ABI would bypass the numbers below
        ret(eperm),
    ]
    for number in sorted(DENIED_X86_64.values()):
        program += [(BPF_JEQ_K, 0, 1, number), ret(eperm)]
    # clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc fall back to clone.
    program += [(BPF_JEQ_K, 0, 1, CLONE3_X86_64), ret(enosys)]
    program += [
        (BPF_JEQ_K, 0, 3, CLONE_X86_64),
        (BPF_LD_W_ABS, 0, 0, 16),  # low half of args[0], the clone flags
        (BPF_JSET_K, 0, 1, NAMESPACE_FLAGS),
        ret(eperm),
        ret(SECCOMP_RET_ALLOW),
    ]
    return program


def install_seccomp() -> None:
    """Install the filter on this thread (inherited by threads and children started later)."""
    if os.uname().machine != "x86_64":
        raise JailError(errno.ENOSYS, "seccomp: the filter is written for x86_64 only")
    program = seccomp_program()
    buffer = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *insn) for insn in program))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    zero = ctypes.c_ulong(0)
    result = _libc().prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog),
                           zero, zero)
    _check(result, "seccomp")


# ------------------------------------------------------------------ the PID namespace


def fork_into_pid_namespace(keep_fds: Sequence[int]) -> None:
    """Fork; the child (PID 1 of the new namespace) returns, the parent waits and exits like it.

    ``keep_fds`` are the worker's pipe ends: the parent closes them so that
    the grader sees end-of-file as soon as the child is gone.
    """
    pid = os.fork()
    if pid == 0:
        with contextlib.suppress(OSError):
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        return
    for fd in keep_fds:
        with contextlib.suppress(OSError):
            os.close(fd)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        death = os.WTERMSIG(status)
        signal.signal(death, signal.SIG_DFL)
        os.kill(os.getpid(), death)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


# ------------------------------------------------------------------ all layers


def join_cgroups(cgroups: Mapping[str, str]) -> list[str]:
    """Write this process into the grader's groups; the layers joined."""
    names = {"memory": "cgroup-memory", "pids": "cgroup-pids", "unified": "cgroup-kill"}
    layers = []
    for hierarchy, procs in cgroups.items():
        try:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            continue
        layers.append(names.get(hierarchy, f"cgroup-{hierarchy}"))
    return layers


def _attempt(layers: list[str], name: str, step: Callable[[], None], failures: list[str]) -> bool:
    try:
        step()
    except OSError as error:
        failures.append(f"{name}: {error}")
        return False
    layers.append(name)
    return True


def enter(config: JailConfig, keep_fds: Sequence[int]) -> tuple[list[str], list[str]]:
    """Apply every layer this platform allows; the layers applied and why others were not."""
    layers: list[str] = []
    failures: list[str] = []
    if not sys.platform.startswith("linux"):
        return layers, ["not Linux"]
    layers += join_cgroups(config.cgroups)
    root = os.geteuid() == 0
    uid = gid = UID_BASE + os.getpid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if root:
        namespaces = _attempt([], "namespaces", lambda: unshare(flags), failures)
    else:
        namespaces = _attempt(layers, "userns", lambda: enter_user_namespace(flags), failures)
    if not namespaces:
        return layers + _finish(change_uid=False, uid=uid, gid=gid, config=config, failures=failures), failures
    layers += ["netns", "ipcns", "utsns"]
    fork_into_pid_namespace(keep_fds)
    layers.append("pidns")
    inner_uid, inner_gid = (uid, gid) if root else (0, 0)

    def filesystem() -> None:
        make_root(config, inner_uid, inner_gid)
        enter_root(config)

    _attempt(layers, "mountns", filesystem, failures)
    # Without its own root, an unprivileged uid may not reach the Python installation (under /root here).
    change_uid = root and "mountns" in layers
    return layers + _finish(change_uid=change_uid, uid=uid, gid=gid, config=config, failures=failures), failures


def _finish(change_uid: bool, uid: int, gid: int, config: JailConfig, failures: list[str]) -> list[str]:
    """The layers that need no namespace: a uid of its own, no new privileges, seccomp."""
    layers: list[str] = []
    if change_uid:
        _attempt(layers, "uid", lambda: drop_privileges(uid, gid, config.workdir), failures)
        with contextlib.suppress(OSError):  # a uid change clears the parent-death signal
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if _attempt(layers, "no-new-privs", no_new_privs, failures):
        _attempt(layers, "seccomp", install_seccomp, failures)
    return layers


def enter_from_env(environ: MutableMapping[str, str], keep_fds: Sequence[int]) -> tuple[list[str], list[str]]:
    """Read (and remove) the grader's jail configuration from the environment and apply it."""
    text = environ.pop(ENV_VAR, "")
    if not text:
        return [], []
    try:
        config = JailConfig.from_json(text)
    except (ValueError, KeyError, TypeError) as error:
        return [], [f"bad jail configuration: {error}"]
    return enter(config, keep_fds)

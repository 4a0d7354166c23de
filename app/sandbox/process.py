"""The process-level steps of the sandbox: namespaces, descriptors, environment, privileges, limits.

Each function does one step and raises OSError when it cannot; `enter()` decides the order and
what a failure means. They run in a freshly forked, single-threaded child, before Landlock (which
hides /proc and /dev/null) and before seccomp (which refuses unshare and prctl(PR_SET_DUMPABLE)).
"""

from __future__ import annotations

import ctypes
import os
import resource
import tempfile

CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWNET = 0x08000000, 0x10000000, 0x40000000
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38
CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


def thread_count() -> int:
    """Threads in this process: Landlock and unshare act on the calling thread alone."""
    return len(os.listdir("/proc/self/task"))


def unshare_namespaces() -> None:
    """A new user, network and IPC namespace (the kernel may refuse: containers often do).

    The network namespace has only a loopback device, which is down: no route anywhere. The IPC
    namespace hides the host's System V and POSIX IPC objects. Capabilities outside are lost.
    """
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC) != 0:
        _raise("unshare(CLONE_NEWUSER|CLONE_NEWNET|CLONE_NEWIPC)")


def map_identity(uid: int, gid: int) -> None:
    """Map the uid and gid we had outside to themselves, so files we create have an owner."""
    _write("/proc/self/setgroups", "deny")  # required before an unprivileged gid_map
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def keep_only_fds(keep: tuple[int, ...]) -> None:
    """Close every descriptor but `keep`; 0, 1 and 2 not kept become /dev/null.

    /dev/null rather than closed: a closed 1 or 2 would be reused by the next file the program
    opens, and a stray C-level write to stderr (torch warnings) would then land in that file.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in keep and fd != null:
            os.dup2(null, fd)
    kept = sorted({0, 1, 2, *keep})
    if null not in kept:
        os.close(null)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # close_range: a wide range is cheap
    limit = max(kept[-1] + 1, hard if hard != resource.RLIM_INFINITY else 1 << 20)
    for low, high in zip(kept, kept[1:] + [limit]):
        os.closerange(low + 1, high)


def reset_environment(home: str) -> None:
    """An empty environment with HOME and TMPDIR at `home`, which also becomes the cwd.

    The environment strings themselves are zeroed first: unsetenv only unlinks them, and the
    original block would stay readable in this process's memory. `tempfile` caches its directory.
    """
    _scrub_c_environ()
    os.environ.clear()  # also empties posix.environ, the dict os.environ wraps
    os.environ["HOME"] = os.environ["TMPDIR"] = home
    tempfile.tempdir = home
    os.chdir(home)


def _scrub_c_environ() -> None:
    """Overwrite every string of the C `environ` with zeros, then empty it."""
    environ = ctypes.POINTER(ctypes.c_void_p).in_dll(_libc, "environ")
    index = 0
    while environ and environ[index]:
        address = environ[index]
        ctypes.memset(address, 0, len(ctypes.string_at(address)))
        index += 1
    _libc.clearenv()


def drop_privileges() -> None:
    """No new privileges, no core dumps or ptrace by peers (not dumpable), no capabilities."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _raise("prctl(PR_SET_NO_NEW_PRIVS)")
    if _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        _raise("prctl(PR_SET_DUMPABLE, 0)")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    empty = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable for both 32-bit halves
    if _libc.capset(header, empty) != 0:
        _raise("capset(none)")


def set_limits(cpu_seconds: int, memory_bytes: int, file_size_bytes: int, open_files: int) -> None:
    """RLIMIT_CPU (soft, then hard a second later), DATA, FSIZE, NOFILE, and CORE 0.

    RLIMIT_NPROC is left alone: it counts every process of the user on the machine (the server and
    all workers) and does not apply to root; seccomp refuses new processes instead.
    """
    if cpu_seconds > 0:
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(used.ru_utime + used.ru_stime) + cpu_seconds
        _lower(resource.RLIMIT_CPU, soft, soft + 1)
    if memory_bytes > 0:
        _lower(resource.RLIMIT_DATA, memory_bytes, memory_bytes)
    _lower(resource.RLIMIT_FSIZE, file_size_bytes, file_size_bytes)
    _lower(resource.RLIMIT_NOFILE, open_files, open_files)
    _lower(resource.RLIMIT_CORE, 0, 0)


def _lower(which: int, soft: int, hard: int) -> None:
    """Set a limit, never above the current hard limit (raising it would need a capability)."""
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def renice(niceness: int) -> None:
    """Raise this process's niceness to `niceness` (lowering it would need a capability)."""
    current = os.nice(0)
    if niceness > current:
        os.nice(niceness - current)


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _raise(call: str) -> None:
    code = ctypes.get_errno()
    raise OSError(code, f"{call}: {os.strerror(code)}")

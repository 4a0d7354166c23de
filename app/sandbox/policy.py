"""What a sandboxed process may touch: the one value `enter()` needs, and its usual read-only part.

The policy is data only, so the caller can build it in the parent (where the paths are known and
readable) and the sandbox code never has to guess them after the process can no longer look.
"""

from __future__ import annotations

import os
import site
import sys
from dataclasses import dataclass

# Never readable, whatever Python's paths say: host configuration, process information (other
# processes' command lines and environments), users' files.
FORBIDDEN_ROOTS = ("/etc", "/proc", "/home")

# The project's source tree (the directory holding `app/`): its code and settings stay unreadable.
# An `app` installed into site-packages has no tree of its own to hide.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
SITE_DIRS = ("site-packages", "dist-packages")


@dataclass(frozen=True)
class SandboxPolicy:
    """The bounds of one sandboxed process.

    readable: directories that may be read and mapped, never written (the Python installation).
    writable: a private, empty directory for this run; it becomes the cwd, HOME and TMPDIR.
    cpu_seconds: RLIMIT_CPU from now on (SIGXCPU, then SIGKILL a second later); 0 = none.
    memory_bytes: RLIMIT_DATA (not RLIMIT_AS: torch reserves address space it never uses); 0 = none.
    file_size_bytes: RLIMIT_FSIZE, the largest file the process may write (0 = no file may grow).
    open_files: RLIMIT_NOFILE.
    keep_fds: descriptors that stay open (the channel to the parent); every other one is closed.
    niceness: the scheduling niceness to reach (only ever raised).
    namespaces: try a new user, network and IPC namespace (reported as unavailable if refused).
    """

    readable: tuple[str, ...]
    writable: str
    cpu_seconds: int
    memory_bytes: int
    file_size_bytes: int
    open_files: int
    keep_fds: tuple[int, ...] = ()
    niceness: int = 0
    namespaces: bool = True


def default_readable() -> tuple[str, ...]:
    """The Python installation and every site-packages directory, minus what must stay hidden.

    A candidate is dropped if it lies under a forbidden root or contains the project's source tree
    (a virtualenv inside the project is fine: only its own directory becomes readable, not `app/`).
    """
    candidates = [sys.base_prefix, sys.prefix, *site.getsitepackages()]
    candidates += [entry for entry in sys.path if os.path.basename(entry) in SITE_DIRS]
    chosen: list[str] = []
    for candidate in candidates:
        path = os.path.realpath(candidate)
        if os.path.isdir(path) and _allowed(path) and path not in chosen:
            chosen.append(path)
    return tuple(chosen)


def _allowed(path: str) -> bool:
    """False for a forbidden root or anything under one, and for an ancestor of the project."""
    if any(_is_within(path, root) for root in FORBIDDEN_ROOTS):
        return False
    return os.path.basename(PROJECT_ROOT) in SITE_DIRS or not _is_within(PROJECT_ROOT, path)


def _is_within(path: str, root: str) -> bool:
    """True if `path` is `root` or lies beneath it (both absolute, already resolved)."""
    return path == root or path.startswith(root.rstrip("/") + "/")

"""Landlock: the kernel denies every file access outside a few directories, and all TCP.

A few lines of ctypes over the three system calls instead of the PyPI `landlock` package (a dev
release, 1.0.0.dev5): the whole interface is three calls and three structs, and these are checked
against the kernel's UAPI header (include/uapi/linux/landlock.h), so there is nothing to trust or
pin. The ruleset is built from the ABI the kernel reports, handling every right that ABI knows:

- filesystem: read-only (read files, list directories, execute) beneath each readable directory,
  every right beneath the writable one, nothing anywhere else (no /proc, /etc, /dev, /tmp);
- network (ABI >= 4): TCP bind and connect are handled with no rule, so both are always denied;
- scoping (ABI >= 6): no signals to, and no abstract UNIX sockets of, processes outside the domain.

Landlock restricts the calling thread and its future children only: call it single-threaded.
"""

from __future__ import annotations

import ctypes
import errno
import os

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # x86_64 and aarch64 alike
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
ABI1_FS = (1 << 13) - 1  # EXECUTE .. MAKE_SYM: the thirteen rights of the first ABI
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a rule on a file may hold
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

_libc = ctypes.CDLL(None, use_errno=True)


class RulesetAttr(ctypes.Structure):
    """struct landlock_ruleset_attr: three __u64; older kernels read only the first 8 or 16 bytes."""

    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class PathBeneathAttr(ctypes.Structure):
    """struct landlock_path_beneath_attr: __u64 allowed_access, __s32 parent_fd, packed (12 bytes)."""

    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 if Landlock is not built in or not enabled at boot."""
    version = _syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    if version < 0:
        if ctypes.get_errno() in (errno.ENOSYS, errno.EOPNOTSUPP):
            return 0
        _raise("landlock_create_ruleset(VERSION)")
    return version


def restrict(readable: tuple[str, ...], writable: str, abi: int) -> None:
    """Confine this thread (and its future children) to `readable` (read-only) and `writable`.

    Raises OSError naming the call that failed; the process is then not restricted.
    """
    attr = _ruleset_attr(abi)
    size = (8, 16, 24)[(abi >= 4) + (abi >= 6)]  # the struct as this kernel knows it
    ruleset = _syscall(SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        _raise("landlock_create_ruleset")
    try:
        read_only = (READ_FILE | READ_DIR | EXECUTE) & attr.handled_access_fs
        for path in readable:
            _allow_beneath(ruleset, path, read_only)
        _allow_beneath(ruleset, writable, attr.handled_access_fs)
        if _syscall(SYS_RESTRICT_SELF, ruleset, 0) < 0:
            _raise("landlock_restrict_self")
    finally:
        os.close(ruleset)


def _ruleset_attr(abi: int) -> RulesetAttr:
    """Every right the ABI can handle: what is handled and not granted by a rule is denied."""
    fs = ABI1_FS | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0) | (IOCTL_DEV if abi >= 5 else 0)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    return RulesetAttr(fs, net, scoped)


def _allow_beneath(ruleset: int, path: str, access: int) -> None:
    """Add one rule: `access` beneath `path` (only the file rights if `path` is a file)."""
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        if not os.path.isdir(path):
            access &= FILE_ONLY
        rule = PathBeneathAttr(access, fd)
        if _syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) < 0:
            _raise(f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def _syscall(number: int, *args) -> int:
    """syscall(2) with every integer passed as a C long (the call is variadic)."""
    return _libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) if isinstance(a, int) else a for a in args))


def _raise(call: str) -> None:
    code = ctypes.get_errno()
    raise OSError(code, f"{call}: {os.strerror(code)}")

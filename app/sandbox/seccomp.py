"""seccomp-bpf: the kernel refuses the system calls a traced program has no business making.

Built with the system's libseccomp (Debian's libseccomp2) through a few lines of ctypes rather than
PyPI `pyseccomp`: six C functions are all we call, `pyseccomp` (0.1.2, 2021) would add a dependency
that finds the library through `ctypes.util.find_library` (which runs a subprocess), and we must
control *when* the library is opened. It is opened here, at import: once Landlock is on nothing
can be opened any more, so this module must be imported before `enter()` (app.sandbox does).

The filter allows by default and answers EPERM to each group in DENIED, and to calls aimed at
another process (signals, limits, priorities, SIGIO ownership). clone is refused without
CLONE_THREAD or with a namespace flag; clone3, whose flags sit in memory the filter cannot read,
answers ENOSYS so that glibc falls back to clone. A foreign architecture (i386 `int 0x80`, x32)
kills the process (libseccomp's bad-architecture action, set explicitly).
"""

from __future__ import annotations

import ctypes
import errno
import os

try:
    _lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
except OSError:
    _lib = None

ACT_ALLOW = 0x7FFF0000
ACT_KILL_PROCESS = 0x80000000
ATTR_ACT_BADARCH = 2
CMP_NE, CMP_MASKED_EQ = 1, 7
LOW32 = 0xFFFFFFFF  # mask: compare an int argument whatever the upper half of its register holds

CLONE_THREAD = 0x00010000
CLONE_NAMESPACES = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080)
MAP_SHARED_ANONYMOUS = 0x01 | 0x20
PR_SET_DUMPABLE = 4
F_SETOWN, F_SETOWN_EX = 8, 15
FIOSETOWN, SIOCSPGRP = 0x8901, 0x8902
PERSONALITY_QUERY = 0xFFFFFFFF

DENIED = {
    "new programs and processes": "execve execveat fork vfork",
    "network": "socket socketpair connect bind listen accept accept4",
    "tracing other processes": "ptrace process_vm_readv process_vm_writev process_madvise kcmp "
    "pidfd_open pidfd_send_signal pidfd_getfd ioprio_set",
    "namespaces and mounts": "unshare setns mount umount2 pivot_root chroot "
    "fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr",
    "kernel facilities": "bpf perf_event_open userfaultfd keyctl add_key request_key "
    "io_uring_setup io_uring_enter io_uring_register init_module finit_module delete_module "
    "kexec_load kexec_file_load reboot swapon swapoff acct quotactl quotactl_fd lookup_dcookie "
    "syslog ioperm iopl modify_ldt uselib "
    "settimeofday clock_settime clock_adjtime adjtimex sethostname setdomainname "
    "mbind migrate_pages move_pages name_to_handle_at open_by_handle_at",
    "identity": "setuid setgid setreuid setregid setresuid setresgid setfsuid setfsgid setgroups",
    # Memory RLIMIT_DATA does not count, and IPC objects that would outlive the process.
    "memory and IPC": "memfd_create memfd_secret shmget shmat shmctl msgget msgsnd msgrcv msgctl "
    "semget semop semtimedop semctl mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr",
    # File changes Landlock cannot restrict (its documentation says so), and file watching.
    "file metadata": "chmod fchmod fchmodat fchmodat2 chown fchown lchown fchownat truncate "
    "utime utimes utimensat futimesat setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr "
    "inotify_init inotify_init1 inotify_add_watch fanotify_init fanotify_mark",
}

# Without Landlock: no file may be opened, created, removed or renamed (open descriptors still work).
DENIED_WITHOUT_LANDLOCK = (
    "open openat openat2 creat mkdir mkdirat rmdir unlink unlinkat rename renameat renameat2 "
    "link linkat symlink symlinkat mknod mknodat"
)

Rule = tuple[str, int, tuple[tuple[int, int, int, int], ...]]  # name, action, AND'ed comparisons


class ArgCmp(ctypes.Structure):
    """struct scmp_arg_cmp: unsigned arg, enum op, u64 datum_a, u64 datum_b."""

    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


if _lib is not None:
    _lib.seccomp_init.restype = ctypes.c_void_p
    _lib.seccomp_init.argtypes = [ctypes.c_uint32]
    _lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    _lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    _lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)
    ]
    _lib.seccomp_load.argtypes = [ctypes.c_void_p]
    _lib.seccomp_release.argtypes = [ctypes.c_void_p]


def available() -> bool:
    """True if libseccomp could be loaded (the kernel's support shows only when loading a filter)."""
    return _lib is not None


def errno_action(code: int) -> int:
    """SCMP_ACT_ERRNO(code): the call fails with `code` instead of running."""
    return 0x00050000 | (code & 0xFFFF)


def install(pid: int, deny_open: bool) -> list[str]:
    """Load the filter into this process (`pid` is its own id).

    Returns the names skipped because this architecture or libseccomp does not know them.
    Raises OSError if the library is missing or the kernel refuses the filter.
    """
    if _lib is None:
        raise OSError(errno.ENOENT, "libseccomp.so.2 could not be loaded")
    ctx = _lib.seccomp_init(ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        _check(_lib.seccomp_attr_set(ctx, ATTR_ACT_BADARCH, ACT_KILL_PROCESS), "seccomp_attr_set(BADARCH)")
        skipped = _add_rules(ctx, rules(pid, deny_open))
        _check(_lib.seccomp_load(ctx), "seccomp_load")
    finally:
        _lib.seccomp_release(ctx)
    return skipped


def rules(pid: int, deny_open: bool) -> list[Rule]:
    """Every rule of the filter; rules for one call are OR'ed."""
    eperm = errno_action(errno.EPERM)
    names = " ".join(DENIED.values()) + (" " + DENIED_WITHOUT_LANDLOCK if deny_open else "")
    result: list[Rule] = [(name, eperm, ()) for name in names.split()]
    result.append(("clone3", errno_action(errno.ENOSYS), ()))
    result.append(("clone", eperm, ((0, CMP_MASKED_EQ, CLONE_THREAD, 0),)))
    result += [("clone", eperm, ((0, CMP_MASKED_EQ, flag, flag),)) for flag in CLONE_NAMESPACES]
    result.append(("mmap", eperm, ((3, CMP_MASKED_EQ, MAP_SHARED_ANONYMOUS, MAP_SHARED_ANONYMOUS),)))
    result.append(("prctl", eperm, ((0, CMP_MASKED_EQ, LOW32, PR_SET_DUMPABLE),)))
    result.append(("personality", eperm, ((0, CMP_NE, PERSONALITY_QUERY, 0),)))
    return result + _other_process_rules(pid, eperm)


def _other_process_rules(pid: int, eperm: int) -> list[Rule]:
    """Signals only to this process; limits, priorities, scheduling only for the caller (pid 0).

    raise(), pthread_kill() and abort() all use tgkill(getpid(), tid), which stays allowed.
    """
    result: list[Rule] = []
    for name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        result.append((name, eperm, ((0, CMP_NE, pid, 0),)))
    for name in ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr"):
        result.append((name, eperm, ((0, CMP_NE, 0, 0),)))
    result.append(("setpriority", eperm, ((0, CMP_NE, 0, 0),)))  # which: PRIO_PROCESS, no group or user
    result.append(("setpriority", eperm, ((1, CMP_NE, 0, 0),)))  # who: the calling thread
    for name, command in (("fcntl", F_SETOWN), ("fcntl", F_SETOWN_EX), ("ioctl", FIOSETOWN), ("ioctl", SIOCSPGRP)):
        result.append((name, eperm, ((1, CMP_MASKED_EQ, LOW32, command),)))  # SIGIO to another process
    return result


def _add_rules(ctx, all_rules: list[Rule]) -> list[str]:
    """Add each rule; a name unknown here (negative number) is skipped and returned."""
    skipped = set()
    for name, action, comparisons in all_rules:
        number = _lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            skipped.add(name)
            continue
        array = (ArgCmp * max(1, len(comparisons)))(*(ArgCmp(*c) for c in comparisons))
        _check(_lib.seccomp_rule_add_array(ctx, action, number, len(comparisons), array), f"seccomp_rule_add({name})")
    return sorted(skipped)


def _check(result: int, call: str) -> None:
    """libseccomp returns -errno on failure."""
    if result < 0:
        raise OSError(-result, f"{call}: {os.strerror(-result)}")

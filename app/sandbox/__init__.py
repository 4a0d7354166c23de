"""Confine the current process with the kernel before it runs an untrusted Python program.

`enter(policy)` is called once, in a freshly forked single-threaded worker, before the program
arrives. The layers go in this order, each for a reason:

1. namespaces: unshare needs a single thread and must write /proc/self/uid_map (hidden by Landlock,
   refused by seccomp later). Optional: where the kernel refuses, it is reported, not fatal.
2. descriptors, environment, cwd: /dev/null must be opened before Landlock; closing inherited
   descriptors first leaves room under a low RLIMIT_NOFILE for the steps that follow.
3. no_new_privs (+ not dumpable, no capabilities): Landlock requires no_new_privs.
4. Landlock: needs open() for its rules' directories, which seccomp may refuse.
5. rlimits (+ niceness): after every step that opens files, so a low RLIMIT_NOFILE or
   RLIMIT_FSIZE cannot get in the sandbox's own way.
6. seccomp, last: it refuses calls the earlier steps make (unshare, prctl, open without Landlock).

A required layer that fails raises `SandboxError`; the process is then partly confined and must
exit. `probe()` runs all of this once in a throwaway child to tell what the kernel supports.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable, Optional

from app.sandbox import landlock, process, seccomp
from app.sandbox.policy import SandboxPolicy, default_readable
from app.sandbox.probe import probe
from app.sandbox.report import LAYERS, Layer, SandboxError, SandboxReport

__all__ = ["enter", "probe", "SandboxPolicy", "SandboxReport", "SandboxError", "Layer", "LAYERS", "default_readable"]


def enter(policy: SandboxPolicy) -> SandboxReport:
    """Apply every layer to this process, in order; raise SandboxError if a required one fails."""
    report = SandboxReport()
    try:
        threads = process.thread_count()
    except OSError as error:
        raise SandboxError(f"cannot count this process's threads: {error}", report) from error
    if threads != 1:
        raise SandboxError(f"enter() needs a single-threaded process; this one has {threads} threads", report)
    report = _namespaces(policy, report)
    report = _required(report, None, lambda: _hygiene(policy))
    report = _required(report, "no_new_privs", _privileges)
    report = _landlock(policy, report)
    report = _required(report, "rlimits", lambda: _limits(policy))
    return _seccomp(report)


def _namespaces(policy: SandboxPolicy, report: SandboxReport) -> SandboxReport:
    """Optional: refused by the kernel means "unavailable"; refused half-way means an error."""
    if not policy.namespaces:
        return report.with_layer("namespaces", "off", "disabled by the policy")
    uid, gid = os.getuid(), os.getgid()
    try:
        process.unshare_namespaces()
    except OSError as error:
        return report.with_layer("namespaces", "unavailable", str(error))
    return _required(report, "namespaces", lambda: _map_identity(uid, gid))


def _map_identity(uid: int, gid: int) -> str:
    process.map_identity(uid, gid)
    return f"new user, network and IPC namespaces (uid {uid}, gid {gid} mapped to themselves)"


def _hygiene(policy: SandboxPolicy) -> str:
    process.keep_only_fds(policy.keep_fds)
    process.reset_environment(policy.writable)
    return ""


def _privileges() -> str:
    process.drop_privileges()
    return "no_new_privs set, not dumpable, no capabilities"


def _landlock(policy: SandboxPolicy, report: SandboxReport) -> SandboxReport:
    """Unavailable in the kernel: reported, and seccomp then refuses every open instead."""
    abi = landlock.abi_version()
    report = replace(report, landlock_abi=abi)
    if abi == 0:
        return report.with_layer("landlock", "unavailable", "not in this kernel, or not enabled at boot")

    def restrict() -> str:
        landlock.restrict(policy.readable, policy.writable, abi)
        extras = ["TCP bind and connect denied"] * (abi >= 4) + ["signals and abstract sockets scoped"] * (abi >= 6)
        paths = f"ABI {abi}: {len(policy.readable)} directories read-only, the run directory read-write"
        return ", ".join([paths, *extras])

    return _required(report, "landlock", restrict)


def _limits(policy: SandboxPolicy) -> str:
    process.set_limits(policy.cpu_seconds, policy.memory_bytes, policy.file_size_bytes, policy.open_files)
    process.renice(policy.niceness)
    memory = f"{policy.memory_bytes} bytes" if policy.memory_bytes else "unlimited"
    return (
        f"cpu {policy.cpu_seconds or 'unlimited'} s, data {memory}, file size {policy.file_size_bytes} bytes, "
        f"{policy.open_files} files, no core, niceness {os.nice(0)}"
    )


def _seccomp(report: SandboxReport) -> SandboxReport:
    deny_open = report.landlock.status != "on"
    if not seccomp.available():
        failed = report.with_layer("seccomp", "unavailable", "libseccomp.so.2 is not installed")
        raise SandboxError("seccomp: libseccomp.so.2 is not installed", failed)
    report = replace(report, seccomp_denies_open=deny_open)

    def install() -> str:
        skipped = seccomp.install(os.getpid(), deny_open)
        refused = [*seccomp.DENIED, "signals, limits and priorities aimed at other processes"]
        refused += ["every open (no Landlock)"] * deny_open
        unknown = [f"(not known here: {' '.join(skipped)})"] * bool(skipped)
        return " ".join([f"default allow; EPERM for {', '.join(refused)}", *unknown])

    return _required(report, "seccomp", install)


def _required(report: SandboxReport, name: Optional[str], action: Callable[[], str]) -> SandboxReport:
    """Run one step (of layer `name`, if any); failing raises SandboxError, the layer marked "off"."""
    try:
        reason = action()
    except OSError as error:
        failed = report.with_layer(name, "off", str(error)) if name else report
        raise SandboxError(f"{name or 'process'}: {error}", failed) from error
    return report.with_layer(name, "on", reason) if name else report


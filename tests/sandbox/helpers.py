"""Run one action inside a sandboxed child and bring its outcome back as JSON.

Each test forks: the child enters a sandbox whose writable directory is the test's run directory,
tries one thing, and writes what happened to a pipe. The parent only reads JSON.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import replace
from typing import Any, Callable, Optional

from app.sandbox import SandboxError, SandboxPolicy, default_readable, enter
from app.sandbox.probe import read_answer

TIMEOUT_S = 20.0


def policy_for(run_dir: str, **changes) -> SandboxPolicy:
    """The policy the tests use: the Python installation readable, `run_dir` writable."""
    base = SandboxPolicy(
        readable=default_readable(), writable=str(run_dir), cpu_seconds=20, memory_bytes=0,
        file_size_bytes=1 << 20, open_files=64,
    )
    return replace(base, **changes)


def run_sandboxed(
    action: Callable[[], Any], run_dir: str, prepare: Optional[Callable[[], None]] = None, **changes
) -> dict:
    """Fork; the child runs `prepare()`, enters the sandbox, runs `action()` and reports.

    Besides `run_in_child`'s outcome: "report" (enter's, as a dict) and "keep_fds".
    """
    policy = policy_for(run_dir, **changes)

    def setup(write_end: int) -> dict:
        if prepare is not None:
            prepare()
        kept = replace(policy, keep_fds=(*policy.keep_fds, write_end))
        return {"report": enter(kept).to_dict(), "keep_fds": list(kept.keep_fds)}

    return run_in_child(action, setup)


def run_in_child(action: Callable[[], Any], setup: Optional[Callable[[int], dict]] = None) -> dict:
    """Fork; the child runs `setup(pipe)` then `action()`, and writes the outcome as JSON.

    The outcome is {"ok": value} or {"error": type name, "errno": ..., "message": ...}, or
    {"sandbox_error": message}; plus "signal" if the child was killed by one.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(action, setup, write_end)
    os.close(write_end)
    try:
        answer = read_answer(read_end, time.monotonic() + TIMEOUT_S)
    finally:
        os.close(read_end)
    if answer is None:
        os.kill(pid, signal.SIGKILL)
    status = os.waitpid(pid, 0)[1]
    outcome = json.loads(answer) if answer else {}
    if os.WIFSIGNALED(status):
        outcome["signal"] = os.WTERMSIG(status)
    return outcome


def _child(action, setup, write_end: int) -> None:
    try:
        try:
            outcome = setup(write_end) if setup is not None else {}
        except SandboxError as error:
            _send(write_end, {"sandbox_error": str(error)})
            return
        try:
            outcome["ok"] = action()
        except BaseException as error:  # noqa: BLE001 - every failure is the outcome under test
            outcome.update(error=type(error).__name__, errno=getattr(error, "errno", None), message=str(error))
        _send(write_end, outcome)
    finally:
        os._exit(0)


def _send(fd: int, outcome: dict) -> None:
    data = json.dumps(outcome, default=repr).encode()
    while data:
        data = data[os.write(fd, data):]


def refused(outcome: dict) -> bool:
    """True if the action raised a permission error (EPERM from seccomp, EACCES from Landlock)."""
    return outcome.get("error") == "PermissionError" and outcome.get("errno") in (1, 13)

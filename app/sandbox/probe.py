"""probe(): what this kernel supports, found by sandboxing a throwaway child once at startup.

The server can show the result in /api/health and refuse to run programs if it is not confined.
The child answers over a pipe in JSON (never pickle): its answer is data, not code.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import replace

from app.sandbox.policy import SandboxPolicy, default_readable
from app.sandbox.report import LAYERS, Layer, SandboxError, SandboxReport

MAX_ANSWER_BYTES = 64 * 1024


def probe(timeout_s: float = 10.0) -> SandboxReport:
    """Fork a child that enters a sandbox in a temporary directory and reports what it got."""
    run_dir = tempfile.mkdtemp(prefix="grafo-probe-")
    policy = SandboxPolicy(
        readable=default_readable(), writable=run_dir, cpu_seconds=5, memory_bytes=0,
        file_size_bytes=1 << 20, open_files=64,
    )
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:
            _child(policy, write_end)
        os.close(write_end)
        answer = read_answer(read_end, time.monotonic() + timeout_s)
        status = _reap(pid, answer is None)
    finally:
        os.close(read_end)
        shutil.rmtree(run_dir, ignore_errors=True)
    return _decode(answer, status)


def _child(policy: SandboxPolicy, write_end: int) -> None:
    """In the child: enter, write the report (or the partial one of a failure), exit at once."""
    from app.sandbox import enter  # already imported by the parent: no file is read here

    code = 1
    try:
        policy = replace(policy, keep_fds=(write_end,))
        try:
            report = enter(policy)
        except SandboxError as error:
            report = error.report
        os.write(write_end, json.dumps(report.to_dict()).encode())
        code = 0
    finally:
        os._exit(code)  # never run the parent's cleanup (atexit, pytest, uvicorn) in the child


def read_answer(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes before closing the pipe; None on timeout."""
    chunks, size = [], 0
    while size <= MAX_ANSWER_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


def _reap(pid: int, kill: bool) -> int:
    """Wait for the child (killing it first if it is late); its wait status."""
    if kill:
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _decode(answer: bytes | None, status: int) -> SandboxReport:
    """The child's report, or one that says every layer is unavailable and why."""
    try:
        return SandboxReport.from_dict(json.loads(answer))
    except (TypeError, ValueError, KeyError):
        reason = f"the probe child gave no report (wait status {status})"
        return SandboxReport(**{name: Layer("unavailable", reason) for name in LAYERS})


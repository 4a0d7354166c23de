"""What runs inside a worker process: harden the process once, then trace programs one at a time.

This module is preloaded by the forkserver (so torch and the engine are imported once, before any
worker forks) and is the only place a program's source is ever executed. It talks to the server
through its own pipe: one request in, one reply out. The reply carries the trace already encoded as
JSON bytes, so the server never re-validates or re-encodes it (and can never fail to encode it).
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import resource
import signal
import traceback

# Thread counts must be fixed before torch starts its pools; the server sets them too, before the
# forkserver starts, so these only matter when this module is imported some other way.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import torch  # noqa: E402  (after the thread variables, on purpose)

from app.engine import trace  # noqa: E402
from app.errors import ProgramError  # noqa: E402
from app.service.protocol import Reply, WorkerConfig  # noqa: E402
from app.trace_model import Trace  # noqa: E402

from app.examples import LESSON  # noqa: E402

PR_SET_PDEATHSIG = 1
WORKER_NICENESS = 10  # below the web process: CPU bombs must not slow its event loop
ALLOC_FAILURE_MARKERS = ("can't allocate memory", "Cannot allocate memory", "out of memory")


def _warm_up() -> None:
    """Trace the lesson once at import, i.e. in the forkserver, before any worker forks.

    A process's first trace costs about a second (lazy imports and caches inside torch); doing it
    here makes every worker, including each replacement, fast from its first request. It runs on
    one thread, so the forkserver has no thread pools that a fork could break.
    """
    torch.set_num_threads(1)
    try:
        trace(LESSON)
    except Exception:  # noqa: BLE001 - an import must not fail (the forkserver would die with it)
        pass


_warm_up()


def main(conn, config: WorkerConfig) -> None:
    """Worker entry point: harden, say ready, then serve requests until the pipe closes."""
    _harden(config)
    baseline_kib = _data_kib()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the server went away: never outlive it
        if request is None:
            os._exit(0)
        conn.send("started")
        reply = run_one(request, config)
        if not reply.retire and _grew(baseline_kib, config):
            reply = dataclasses.replace(reply, retire=True)
        conn.send(reply)
        if reply.retire:
            os._exit(0)


def _data_kib() -> int:
    """This process's data segment (VmData, what RLIMIT_DATA counts), in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _grew(baseline_kib: int, config: WorkerConfig) -> bool:
    """True when the last program left the heap much bigger than a fresh worker's.

    The allocator keeps freed memory mapped, so a program that used a lot would shrink what the
    next program may allocate under the same RLIMIT_DATA: one program affecting another. Such a
    worker is replaced (about 10 ms, in the background) instead of being reused.
    """
    if config.memory_limit_bytes <= 0:
        return False
    allowance_kib = config.memory_limit_bytes // 1024 // 8
    return _data_kib() - baseline_kib > allowance_kib


def _harden(config: WorkerConfig) -> None:
    """Apply the limits that must come from outside the interpreter, once per process."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a terminate must work even inside a C loop
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    if config.memory_limit_bytes > 0:
        # RLIMIT_DATA, not RLIMIT_AS: torch reserves huge virtual ranges it never touches, and
        # with AS the process dies outright; with DATA a too-big allocation is a catchable error.
        resource.setrlimit(resource.RLIMIT_DATA, (config.memory_limit_bytes, config.memory_limit_bytes))
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already fixed for this process image (set before fork); nothing to do
    try:
        os.nice(WORKER_NICENESS)  # programs yield the CPU to the web process (health, admission)
    except OSError:
        pass


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL us when our parent (the forkserver) exits, so no orphan survives."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the pipe's EOF still ends the worker once it is idle
    if os.getppid() == 1:
        os._exit(0)  # the parent is already gone


def _arm_cpu_limit(seconds: int) -> None:
    """Let this run use at most `seconds` more CPU time; beyond it the kernel sends SIGXCPU."""
    if seconds <= 0:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = spent + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def run_one(request: dict, config: WorkerConfig) -> Reply:
    """Trace one program and encode the answer; every failure becomes an error about the program."""
    _arm_cpu_limit(config.cpu_seconds_per_run)
    try:
        result = trace(
            request["source"],
            root=request.get("root"),
            gradcheck=request.get("gradcheck", True),
            eps=request.get("eps", 1e-3),
            limits=config.limits,
        )
        if not isinstance(result, Trace):
            raise TypeError(f"engine returned {type(result).__name__}, not Trace")
        body = result.model_dump_json().encode("utf-8")
    except ProgramError as error:
        return _program_error_reply(error)
    except MemoryError:
        return Reply("error", _memory_error(), retire=True, detail=traceback.format_exc())
    except BaseException as error:  # noqa: BLE001 - a program must never take the service down
        if _is_alloc_failure(str(error)):
            return Reply("error", _memory_error(), retire=True, detail=traceback.format_exc())
        message = "the program could not be traced (an unexpected error inside Grafo was logged)"
        return Reply("error", ProgramError("runtime", message).to_dict(), retire=True, detail=traceback.format_exc())
    return Reply("ok", body, retire=not _state_is_clean())


def _program_error_reply(error: ProgramError) -> Reply:
    """A ProgramError as a reply; an allocation failure is reported as the memory limit it is."""
    if error.kind == "runtime" and _is_alloc_failure(error.message):
        payload = _memory_error()
        payload["line"], payload["col"] = error.line, error.col
        return Reply("error", payload, retire=True)
    pushed_bounds = error.kind in ("timeout", "limit")  # it may have left big caches behind
    return Reply("error", error.to_dict(), retire=pushed_bounds or not _state_is_clean())


def _memory_error() -> dict:
    return ProgramError("limit", "the program needed more memory than a run may use").to_dict()


def _is_alloc_failure(message: str) -> bool:
    return any(marker in message for marker in ALLOC_FAILURE_MARKERS)


def _state_is_clean() -> bool:
    """Global torch state a run could have changed; if any differs, the worker is replaced."""
    return (
        torch.is_grad_enabled()
        and not torch.is_inference_mode_enabled()
        and not torch.is_anomaly_enabled()
        and torch.get_default_dtype() == torch.float32
        and torch.get_num_threads() == 1
    )

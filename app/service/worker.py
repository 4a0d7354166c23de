"""What runs inside a worker process: enter the sandbox, run one program, send its trace, exit.

This module is preloaded by the forkserver, so torch, numpy and the modules teaching programs import
are loaded (and warmed up) once, before any worker forks: a program needs no file access to import
them. Each worker then:
1. enters the kernel sandbox (`app.sandbox`) before it reads a byte of any program;
2. says it is ready (with the sandbox report) and waits for one request;
3. runs the program as real Python, with the tracer reading its frames;
4. sends the result as JSON bytes and exits. A worker never runs a second program: a program may
   change anything in its own process (torch itself included), so nothing it leaves can reach the next.
Messages are JSON over the pipe, never pickle: the parent treats whatever comes back as untrusted.
"""

from __future__ import annotations

import json
import linecache
import os
import signal
import time
import traceback

# Thread counts must be fixed before torch starts its pools; the server sets them too, before the
# forkserver starts, so these only matter when this module is imported some other way.
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import torch  # noqa: E402  (after the thread variables, on purpose)

from app.service import warm  # noqa: E402  (imports what programs use, before the sandbox)
from app.errors import ProgramError  # noqa: E402
from app.sandbox import SandboxError, enter  # noqa: E402
from app.sandbox.policy import SandboxPolicy, default_readable  # noqa: E402
from app.service.protocol import WorkerConfig  # noqa: E402
from app.teaching.annotate import traced  # noqa: E402
from app.engine.values import shrink_previews  # noqa: E402
from app.trace_model import Trace, TraceWarning, wire_json  # noqa: E402

WORKER_NICENESS = 10  # below the web process: CPU bombs must not slow its event loop
ALLOC_FAILURE_MARKERS = ("can't allocate memory", "Cannot allocate memory", "out of memory", "MemoryError")
COARSER_PREVIEWS = (100, 10, 1, 0)  # numbers per value, tried in turn while a trace is too large
READABLE = default_readable()  # computed in the forkserver, while paths can still be looked at

# This module is imported only by the forkserver: it and every worker it forks yield the CPU to the
# web process (each run's worker is replaced, so under load the forkserver forks all the time).
os.nice(WORKER_NICENESS)
torch.set_num_threads(1)
warm.warm_up(traced)
linecache.clearcache()  # the warm-up's tracebacks cached Grafo's own source: no program may read it


def main(conn, config: WorkerConfig, run_dir: str) -> None:
    """Worker entry point: confine this process, say ready, run one request, reply, exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    report, confined = _confine(conn, config, run_dir)
    _send(conn, {"ready": os.getpid(), "sandbox": report, "confined": confined})
    if not confined and not config.allow_unsandboxed:
        os._exit(0)  # the parent refuses to run programs; nothing more to do here
    try:
        request = json.loads(conn.recv_bytes(config.max_request_bytes))
    except (EOFError, OSError, ValueError):
        os._exit(0)  # the server went away (or sent nothing we understand)
    _send(conn, {"started": True})
    envelope, body = run_one(request, config)
    _send(conn, envelope)
    if body is not None:
        conn.send_bytes(body)
    os._exit(0)


def _send(conn, message: dict) -> None:
    conn.send_bytes(json.dumps(message).encode("utf-8"))


def _confine(conn, config: WorkerConfig, run_dir: str) -> tuple[dict, bool]:
    """Enter the sandbox; (its report, whether the process is confined)."""
    policy = SandboxPolicy(
        readable=READABLE, writable=run_dir, cpu_seconds=config.cpu_seconds_per_run,
        memory_bytes=config.memory_limit_bytes, file_size_bytes=config.file_size_bytes,
        open_files=config.open_files, keep_fds=(conn.fileno(),), niceness=WORKER_NICENESS,
    )
    started = time.perf_counter()
    try:
        report = enter(policy)
    except SandboxError as error:
        partial = getattr(error, "report", None)
        return {**(partial.to_dict() if partial is not None else {}), "error": str(error)}, False
    return {**report.to_dict(), "enter_ms": round((time.perf_counter() - started) * 1000, 3)}, report.confined


def run_one(request: dict, config: WorkerConfig) -> tuple[dict, bytes | None]:
    """Trace one program: ({"status": "ok"}, trace JSON) or ({"status": "error", "error": ...}, None)."""
    try:
        result = traced(
            str(request["source"]),
            root=request.get("root"),
            gradcheck=bool(request.get("gradcheck", True)),
            eps=request.get("eps", 1e-3),
            limits=config.limits,
            passes=[k for k in request.get("passes") or [] if isinstance(k, int)],
        )
        if not isinstance(result, Trace):
            raise TypeError(f"engine returned {type(result).__name__}, not Trace")
        body = encode_within(result, config.trace_target_bytes, config.max_trace_bytes)
    except ProgramError as error:
        partial = _partial_body(error, config)
        if error.kind == "runtime" and _is_alloc_failure(error.message):
            error = ProgramError("limit", _memory_error().message, error.line, error.col, key="limit_memory")
        return {**_error(error), "partial": partial is not None}, partial
    except MemoryError:
        return _error(_memory_error()), None
    except BaseException as error:  # noqa: BLE001 - a program must never take the service down
        if _is_alloc_failure(str(error)):
            return _error(_memory_error()), None
        message = "the program could not be traced (an unexpected error inside Grafo was logged)"
        return {**_error(ProgramError("runtime", message, key="internal_error")),
                "detail": traceback.format_exc()[-4000:]}, None
    return {"status": "ok"}, body


def encode_within(result: Trace, target_bytes: int, max_bytes: int) -> bytes:
    """The trace as JSON: past `target_bytes`, values are previewed with fewer numbers (and the trace
    says so); what is still over `max_bytes` then is refused."""
    body = wire_json(result).encode("utf-8")
    for preview in COARSER_PREVIEWS:
        if len(body) <= target_bytes:
            return body
        shrink_previews(result, preview)
        result.warnings.append(TraceWarning(
            message=f"the trace was over {target_bytes:,} bytes: values are shown with {preview} numbers each",
            key="values_summarised", params={"count": preview, "bytes": target_bytes}))
        body = wire_json(result).encode("utf-8")
    if len(body) <= max_bytes:
        return body
    raise ProgramError("limit", f"the trace is larger than {max_bytes:,} bytes even with values summarised",
                       key="limit_trace_bytes", bytes=max_bytes)


def _partial_body(error: ProgramError, config: WorkerConfig) -> bytes | None:
    """The trace of what ran before the error, when there is one and it fits."""
    if getattr(error, "trace", None) is None:
        return None
    try:
        return encode_within(error.trace, config.trace_target_bytes, config.max_trace_bytes)
    except ProgramError:
        return None


def _error(error: ProgramError) -> dict:
    return {"status": "error", "error": error.to_dict()}


def _memory_error() -> ProgramError:
    return ProgramError("limit", "the program needed more memory than a run may use", key="limit_memory")


def _is_alloc_failure(message: str) -> bool:
    return any(marker in message for marker in ALLOC_FAILURE_MARKERS)

"""A trace request's way from the event loop to a worker and back, and what its answer looks like.

Routes stay thin: they hand the request to `TraceService.trace` and send what `to_response` makes.
Every way a run can fail ends here as an error about the program (400), or as 503 when the
service is full (429 when this client already has its share); nothing about a run can become a 500:
text from a worker is made encodable, and a trace larger than `max_trace_bytes` is refused here too,
where it leaves the service (the pool refuses it first).
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from typing import get_args
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
import platform

from starlette.responses import JSONResponse, Response

from app import __version__
from app.examples import EXAMPLES
from app.service.admission import FairAdmission, Saturated
from app.service.logs import log_event
from app.service.cache import ResultCache
from app.service.models import CacheState, HealthResponse, PoolState, TraceRequest
from app.service.text import MAX_ECHO_CHARS, clean_text, valid_utf8
from app.service.pool import PoolStopped, QueueTimeout, RunOutcome, SandboxUnavailable, WorkerPool
from app.settings import Limits, ServiceSettings
from app.trace_model import ErrorBody

ERROR_KINDS = frozenset(get_args(ErrorBody.model_fields["kind"].annotation))
UNEXPECTED = "the program could not be traced (an unexpected error inside Grafo was logged)"
# Only the built-in examples are cached: they are public, so a fast answer (or any other trace of
# the cache) tells nobody what someone else traced.
CACHEABLE_SOURCES = frozenset(example.source for example in EXAMPLES)
MAX_MESSAGE_CHARS = 4000  # a worker's error message, as sent to the client
CHUNK_BYTES = 64 * 1024  # a trace is sent in pieces, so a client that does not read holds one piece
# Read once, without importing torch in the server process: /api/health opens no file (it must
# answer even when every file descriptor is taken).
TORCH_VERSION = metadata.version("torch")


class TraceService:
    """Owns the worker pool, the admission gate and the threads that wait on workers."""

    def __init__(self, settings: ServiceSettings, limits: Limits | None = None):
        self.settings = settings
        self.limits = settings.engine_limits(limits)
        self.pool = WorkerPool(settings, self.limits)
        self.admission = FairAdmission(settings.worker_count, settings.worker_count + settings.queue_size,
                                       settings.runs_per_client)
        self.cache = ResultCache(settings.result_cache_mb * 1024 * 1024)
        # One thread per run slot (the admission gate lets no more runs start): each blocks on its
        # worker's pipe, not on the loop. Few, long-lived threads also keep the memory that
        # allocators hold per thread (decoding and validating traces) from multiplying.
        self._threads = ThreadPoolExecutor(max_workers=settings.worker_count, thread_name_prefix="grafo-run")
        self.started = False

    def start(self) -> None:
        self.pool.start()
        self.started = True

    def stop(self) -> None:
        self.pool.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def trace(self, request: TraceRequest, request_id: str | None = None, client: str = "unknown") -> RunOutcome:
        """Trace one program (from the cache when it is a built-in example traced before).

        Raises `Saturated` (503) or `ClientBusy` (429) only; every other failure is an outcome about
        the program. `client` is the address fairness counts by (`admission.client_key`).
        """
        key = self.cache.key(request) if self.cache.max_bytes and request.source in CACHEABLE_SOURCES else None
        body = self.cache.get(key) if key else None
        if body is not None:
            return RunOutcome(body=body, cached=True)
        outcome = await self._run(request, request_id, client)
        if key and outcome.body is not None:
            self.cache.put(key, outcome.body)
        return outcome

    async def _run(self, request: TraceRequest, request_id: str | None, client: str) -> RunOutcome:
        deadline = time.monotonic() + self.settings.queue_wait_s
        async with self.admission.slot(client, self.settings.queue_wait_s):
            try:
                loop = asyncio.get_running_loop()
                wait_s = max(0.0, deadline - time.monotonic())
                outcome = await loop.run_in_executor(self._threads, self.pool.run, request.model_dump(), wait_s)
            except (QueueTimeout, PoolStopped) as error:
                raise Saturated() from error
            except SandboxUnavailable as error:
                outcome = RunOutcome(error={"kind": "sandbox", "line": None, "col": None, "message":
                                            f"this server cannot confine programs, so it runs none: {error}",
                                            **_keyed(key="sandbox_unavailable", reason=str(error))})
            except Exception:  # noqa: BLE001 - answered as an error about the program, and logged
                outcome = RunOutcome(error=_runtime_error(UNEXPECTED), detail=traceback.format_exc())
        if outcome.detail:
            log_event("run_failure", limited=True, id=request_id, detail=outcome.detail)
        return outcome

    def health(self) -> HealthResponse:
        pool = self.pool.state()
        state = PoolState(**pool, in_flight=self.admission.in_flight, capacity=self.admission.capacity)
        if not self.started:
            status = "starting"
        else:
            serving = pool["alive"] + pool["starting"] >= 1  # single-use workers: one is always on its way
            status = "ok" if serving and self.pool.sandbox_refusal is None else "degraded"
        return HealthResponse(
            status=status,
            version=__version__,
            python=platform.python_version(),
            torch=TORCH_VERSION,
            pool=state,
            cache=CacheState(max_bytes=self.cache.max_bytes),
            limits=self.limits.as_dict(),
            service=self.settings.as_dict(),
            sandbox=self.pool.sandbox_state(),
        )


class TraceBody(Response):
    """A trace's JSON bytes, sent in CHUNK_BYTES pieces: each waits until the client has taken the
    one before (uvicorn's flow control), so a client that does not read never makes the server
    copy a whole trace into its write buffer, and the connection guard can cut it off."""

    media_type = "application/json"

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = self.body
        for start in range(0, max(len(body), 1), CHUNK_BYTES):
            end = start + CHUNK_BYTES
            await send({"type": "http.response.body", "body": body[start:end], "more_body": end < len(body)})


def to_response(outcome: RunOutcome, state, max_trace_bytes: int) -> Response:
    """200 with the worker's JSON bytes (valid UTF-8, at most `max_trace_bytes`), or 400 with the
    error; notes the kind for logs."""
    if outcome.body is not None and len(outcome.body) > max_trace_bytes:
        message = f"the trace is larger than the limit ({max_trace_bytes:,} bytes); trace fewer or smaller tensors"
        outcome = RunOutcome(error={"kind": "limit", "message": message, "line": None, "col": None})
    if outcome.body is not None:
        return TraceBody(content=valid_utf8(outcome.body))
    error = _clean_error(outcome.error)
    state.error_kind = error["kind"]
    status = 503 if error["kind"] == "sandbox" else 400  # the server's condition, not the program's
    if outcome.partial is not None and len(outcome.partial) <= max_trace_bytes:
        # What the program did before the error, as the worker encoded it (validated by the pool).
        body = b'{"error":' + json.dumps(error).encode() + b',"trace":' + valid_utf8(outcome.partial) + b"}"
        return Response(content=body, status_code=status, media_type="application/json")
    return JSONResponse(status_code=status, content={"error": error})


BUSY_MESSAGES = {
    503: ("busy", "the server is busy; try again shortly"),
    429: ("client_busy", "your address already has as many programs running or waiting as one address "
                         "may; try again when one has finished"),
}


def busy_response(settings: ServiceSettings, state, status: int = 503) -> JSONResponse:
    """503: the server is full; 429: this client has its share. Both say when to try again."""
    state.error_kind, message = BUSY_MESSAGES[status]
    seconds = settings.retry_after_s
    body = {"error": {"kind": "busy", "message": message, "retry_after_s": seconds}}
    return JSONResponse(status_code=status, content=body, headers={"Retry-After": str(seconds)})


def _clean_error(error: dict | None) -> dict:
    """Coerce a worker's error into `ErrorBody`'s shape, bounded and with any lone surrogate
    replaced (a program's string can hold one and an error message can repeat it), so encoding it
    can never fail."""
    if not isinstance(error, dict):
        return _runtime_error(UNEXPECTED)
    kind = error.get("kind") if error.get("kind") in ERROR_KINDS else "runtime"
    hint = error.get("hint")
    return {
        "kind": kind,
        "message": clean_text(str(error.get("message") or UNEXPECTED), MAX_MESSAGE_CHARS),
        "line": _int_or_none(error.get("line")),
        "col": _int_or_none(error.get("col")),
        "hint": clean_text(hint, MAX_ECHO_CHARS) if isinstance(hint, str) else None,
        **_message_key(error),
    }


def _keyed(key: str, **params) -> dict:
    return {"key": key, "params": params}


def _message_key(error: dict) -> dict:
    """The error's message key and parameters (the worker's or the pool's), bounded and clean."""
    key, params = error.get("key"), error.get("params")
    if not isinstance(key, str) or not isinstance(params, dict):
        return {}
    clean = {clean_text(str(name), 40): value if isinstance(value, (int, float)) and not isinstance(value, bool)
             else clean_text(str(value), MAX_ECHO_CHARS) for name, value in list(params.items())[:8]}
    return {"key": clean_text(key, 60), "params": clean}


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _runtime_error(message: str) -> dict:
    return {"kind": "runtime", "message": message, "line": None, "col": None}

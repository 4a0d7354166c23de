"""A trace request's way from the event loop to a worker and back, and what its answer looks like.

Routes stay thin: they hand the request to `TraceService.trace` and send what `to_response` makes.
Every way a run can fail ends here as an error about the program (400), or as 503 when the
service is full; nothing about a run can become a 500.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import get_args
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
import platform

from starlette.responses import JSONResponse, Response

from app import __version__
from app.service.admission import Admission, Saturated
from app.service.logs import log_event
from app.service.cache import ResultCache
from app.service.models import CacheState, HealthResponse, PoolState, TraceRequest
from app.service.pool import PoolStopped, QueueTimeout, RunOutcome, SandboxUnavailable, WorkerPool
from app.settings import Limits, ServiceSettings
from app.trace_model import ErrorBody

ERROR_KINDS = frozenset(get_args(ErrorBody.model_fields["kind"].annotation))
UNEXPECTED = "the program could not be traced (an unexpected error inside Grafo was logged)"


class TraceService:
    """Owns the worker pool, the admission gate and the threads that wait on workers."""

    def __init__(self, settings: ServiceSettings, limits: Limits | None = None):
        self.settings = settings
        self.limits = settings.engine_limits(limits)
        self.pool = WorkerPool(settings, self.limits)
        self.admission = Admission(settings.worker_count + settings.queue_size)
        self.cache = ResultCache(settings.result_cache_mb * 1024 * 1024)
        # One thread per admitted request: each blocks on its worker's pipe, not on the loop.
        self._threads = ThreadPoolExecutor(max_workers=self.admission.capacity, thread_name_prefix="grafo-run")
        self.started = False

    def start(self) -> None:
        self.pool.start()
        self.started = True

    def stop(self) -> None:
        self.pool.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def trace(self, request: TraceRequest, request_id: str | None = None) -> RunOutcome:
        """Trace one program (from the cache when the same request succeeded before).

        Raises `Saturated` (503) only; every other failure is an outcome about the program.
        """
        key = self.cache.key(request) if self.cache.max_bytes else None
        body = self.cache.get(key) if key else None
        if body is not None:
            return RunOutcome(body=body, cached=True)
        outcome = await self._run(request, request_id)
        if key and outcome.body is not None:
            self.cache.put(key, outcome.body)
        return outcome

    async def _run(self, request: TraceRequest, request_id: str | None) -> RunOutcome:
        with self.admission.slot():
            try:
                loop = asyncio.get_running_loop()
                outcome = await loop.run_in_executor(
                    self._threads, self.pool.run, request.model_dump(), self.settings.queue_wait_s
                )
            except (QueueTimeout, PoolStopped) as error:
                raise Saturated() from error
            except SandboxUnavailable as error:
                outcome = RunOutcome(error={"kind": "sandbox", "line": None, "col": None, "message":
                                            f"this server cannot confine programs, so it runs none: {error}"})
            except Exception:  # noqa: BLE001 - answered as an error about the program, and logged
                outcome = RunOutcome(error=_runtime_error(UNEXPECTED), detail=traceback.format_exc())
        if outcome.detail:
            log_event("run_failure", id=request_id, detail=outcome.detail)
        return outcome

    def health(self) -> HealthResponse:
        pool = self.pool.state()
        state = PoolState(**pool, in_flight=self.admission.in_flight, capacity=self.admission.capacity)
        if not self.started:
            status = "starting"
        else:
            status = "ok" if pool["alive"] >= 1 and self.pool.sandbox_refusal is None else "degraded"
        return HealthResponse(
            status=status,
            version=__version__,
            python=platform.python_version(),
            torch=metadata.version("torch"),  # without importing torch in the server process
            pool=state,
            cache=CacheState(**self.cache.state()),
            limits=self.limits.as_dict(),
            service=self.settings.as_dict(),
            sandbox=self.pool.sandbox_state(),
        )


def to_response(outcome: RunOutcome, state) -> Response:
    """200 with the worker's JSON bytes as they are, or 400 with the error; notes the kind for logs."""
    if outcome.body is not None:
        headers = {"X-Grafo-Cache": "hit" if outcome.cached else "miss"}
        return Response(content=outcome.body, media_type="application/json", headers=headers)
    error = _clean_error(outcome.error)
    state.error_kind = error["kind"]
    status = 503 if error["kind"] == "sandbox" else 400  # the server's condition, not the program's
    return JSONResponse(status_code=status, content={"error": error})


def busy_response(settings: ServiceSettings, state) -> JSONResponse:
    state.error_kind = "busy"
    seconds = settings.retry_after_s
    body = {"error": {"kind": "busy", "message": "the server is busy; try again shortly", "retry_after_s": seconds}}
    return JSONResponse(status_code=503, content=body, headers={"Retry-After": str(seconds)})


def _clean_error(error: dict | None) -> dict:
    """Coerce a worker's error into `ErrorBody`'s shape, so encoding it can never fail."""
    if not isinstance(error, dict):
        return _runtime_error(UNEXPECTED)
    kind = error.get("kind") if error.get("kind") in ERROR_KINDS else "runtime"
    return {
        "kind": kind,
        "message": str(error.get("message") or UNEXPECTED),
        "line": _int_or_none(error.get("line")),
        "col": _int_or_none(error.get("col")),
        "hint": error.get("hint") if isinstance(error.get("hint"), str) else None,
    }


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _runtime_error(message: str) -> dict:
    return {"kind": "runtime", "message": message, "line": None, "col": None}

"""Structured request logs: one JSON line per request (id, method, path, status, ms, error kind).

Program source is never logged unless `log_source` is on: strangers' programs may hold things
they did not mean to publish, and a log is kept longer than a request. The request id is also sent
back as `X-Request-ID`, so a user's report can be matched with the server's line.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

LOGGER_NAME = "grafo.service"
log = logging.getLogger(LOGGER_NAME)


def configure_logging(level: str = "info") -> None:
    """Send the service's lines to stderr as they are (they are JSON already); idempotent."""
    log.setLevel(level.upper())
    if not any(getattr(handler, "_grafo", False) for handler in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._grafo = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.propagate = False


def log_event(event: str, **fields) -> None:
    """Write one structured line; values that are not JSON become their text."""
    log.info(json.dumps({"event": event, **fields}, ensure_ascii=False, default=str))


class RequestLogMiddleware:
    """ASGI middleware: give each request an id and log one line when its response is done."""

    def __init__(self, app, log_source: bool = False):
        self.app = app
        self.log_source = log_source

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._write(scope, state, request_id, status["code"], started)

    def _write(self, scope, state: dict, request_id: str, status: int, started: float) -> None:
        fields = {
            "id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "error_kind": state.get("error_kind"),
        }
        if self.log_source and state.get("source") is not None:
            fields["source"] = state["source"]
        log_event("request", **fields)

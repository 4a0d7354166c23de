"""Structured request logs: one JSON line per request (id, method, path, status, ms, error kind).

Program source is never logged unless `log_source` is on: strangers' programs may hold things
they did not mean to publish, and a log is kept longer than a request. The request id is also sent
back as `X-Request-ID`, so a user's report can be matched with the server's line.

Lines a client can cause without a request of its own (a refused connection, a timeout, a worker's
traceback, uvicorn's and asyncio's warnings) can't amplify: each kind is written at most once per
`log_interval_s`, with the number held back since, every field is cut to `MAX_FIELD_CHARS` and every
traceback to `MAX_TRACEBACK_CHARS`.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid

from app.service.text import clean_text

LOGGER_NAME = "grafo.service"
log = logging.getLogger(LOGGER_NAME)
MAX_FIELD_CHARS = 8 * 1024
MAX_TRACEBACK_CHARS = 8 * 1024
MAX_KINDS = 1000  # kinds remembered by the rate limiter (the oldest are forgotten past it)
FOREIGN_LOGGERS = ("uvicorn", "uvicorn.error", "asyncio")


class RateLimiter:
    """At most one line per kind per interval; counts the lines it holds back. Thread-safe (the
    pool logs from its threads)."""

    def __init__(self, interval_s: float = 10.0):
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, kind: str) -> int | None:
        """None: hold this line back; otherwise how many lines of its kind were held back before it."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval_s:
                self._held[kind] = self._held.get(kind, 0) + 1
                return None
            if last is None and len(self._last) >= MAX_KINDS:
                self._last.clear()
            self._last[kind] = now
            return self._held.pop(kind, 0)


LIMITER = RateLimiter()


class RateLimitFilter(logging.Filter):
    """Warnings and errors of any logger it is attached to: one line per message template per
    interval, with the count held back appended, and a traceback cut to MAX_TRACEBACK_CHARS."""

    def __init__(self, limiter: RateLimiter = LIMITER):
        super().__init__()
        self.limiter = limiter

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        held = self.limiter.allow(f"{record.name}:{record.msg}"[:300])
        if held is None:
            return False
        if record.exc_info and not record.exc_text:
            record.exc_text = clean_text(logging.Formatter().formatException(record.exc_info), MAX_TRACEBACK_CHARS)
        if held and isinstance(record.msg, str):
            record.msg = f"{record.msg} [{held} more like this not logged in the last {self.limiter.interval_s:g} s]"
        return True


def configure_logging(level: str = "info", interval_s: float | None = None) -> None:
    """Send the service's lines to stderr as they are (they are JSON already), and rate-limit the
    warnings of the service, uvicorn and asyncio; idempotent."""
    if interval_s is not None:
        LIMITER.interval_s = interval_s
    log.setLevel(level.upper())
    if not any(getattr(handler, "_grafo", False) for handler in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._grafo = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.propagate = False
    limit_foreign_loggers()


def limit_foreign_loggers() -> None:
    """Attach the rate limit to every logger a client can make write (again after uvicorn has
    configured its own loggers)."""
    for name in (LOGGER_NAME, *FOREIGN_LOGGERS):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RateLimitFilter) for existing in logger.filters):
            logger.addFilter(RateLimitFilter())


def log_event(event: str, limited: bool = False, **fields) -> None:
    """Write one structured line; values that are not JSON become their text, every field is cut
    to MAX_FIELD_CHARS. `limited`: at most one line of this event per interval (with `held_back`)."""
    if limited:
        held = LIMITER.allow(event)
        if held is None:
            return
        if held:
            fields["held_back"] = held
    line = json.dumps({"event": event, **{name: _bounded(value) for name, value in fields.items()}},
                      ensure_ascii=False, default=str)
    log.info(clean_text(line))


def _bounded(value):
    return clean_text(value, MAX_FIELD_CHARS) if isinstance(value, str) else value


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
        status = {"code": 499}  # no response at all: the client left first (nginx's code for it)

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
            "path": clean_text(scope["path"], 200),
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "error_kind": state.get("error_kind"),
        }
        if self.log_source and state.get("source") is not None:
            fields["source"] = state["source"]
        log_event("request", **fields)

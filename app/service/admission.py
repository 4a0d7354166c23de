"""Admission control: what the service refuses before any worker sees a request.

Two bounds. The request body is capped while it streams (uvicorn has no body limit of its own, and
a chunked body announces no length), so an oversized body is refused with 413 after at most
`max_body_bytes` have been read. The number of runs in flight or waiting is capped (workers plus
the queue); beyond it a request is refused at once with 503 and `Retry-After`, instead of piling up.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Saturated(Exception):
    """Every worker is busy and the queue is full (or nothing freed up in time)."""


class Admission:
    """Counts runs in flight; used only from the event loop thread, so no lock is needed."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.in_flight = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.in_flight >= self.capacity:
            raise Saturated()
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


class BodyLimitMiddleware:
    """ASGI middleware: read the body up to `max_bytes`, answer 413 past it, then replay it."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._refuse(scope, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nothing to answer
            body.extend(message.get("body", b""))
            if len(body) > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _refuse(self, scope, send) -> None:
        scope.setdefault("state", {})["error_kind"] = "limit"
        error = {
            "kind": "limit",
            "message": f"the request body is larger than the limit ({self.max_bytes} bytes)",
            "line": None,
            "col": None,
        }
        payload = json.dumps({"error": error}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _declared_length(scope) -> int:
    """The Content-Length header as a number (0 when absent; huge when unreadable, to refuse it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 1 << 62
    return 0


def _replay(body: bytes, receive):
    """A `receive` that hands the already-read body to the app once, then defers to the client."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

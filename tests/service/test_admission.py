"""Admission control and request logs, driven at the ASGI level (no workers needed)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import json
import logging

import pytest

from app.service.admission import Admission, BodyLimitMiddleware, Saturated
from app.service.logs import LOGGER_NAME, RequestLogMiddleware


async def _echo_app(scope, receive, send):
    """A tiny ASGI app that reads the whole body and answers with its length."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    scope.setdefault("state", {})["error_kind"] = "none"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def _call(app, chunks, headers=(), method="POST"):
    """Send `chunks` as a streamed body; return (status, body, number of chunks the app pulled)."""
    pulled = []
    sent = []
    scope = {"type": "http", "method": method, "path": "/api/trace", "headers": list(headers)}

    async def receive():
        index = len(pulled)
        pulled.append(index)
        if index < len(chunks):
            return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    _run_in_fresh_loop(app(scope, receive, send))
    status = sent[0]["status"]
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return status, body, len(pulled)


def _run_in_fresh_loop(coroutine) -> None:
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps a loop in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, coroutine).result()


def test_body_under_limit_is_replayed_whole():
    app = BodyLimitMiddleware(_echo_app, max_bytes=100)
    status, body, _ = _call(app, [b"a" * 40, b"b" * 40])
    assert (status, body) == (200, b"80")


def test_streamed_body_over_limit_stops_reading_at_the_limit():
    app = BodyLimitMiddleware(_echo_app, max_bytes=100)
    chunks = [b"x" * 30] * 1000  # 30 kB announced by no header at all
    status, body, pulled = _call(app, chunks)
    assert status == 413
    assert json.loads(body)["error"]["kind"] == "limit"
    assert pulled == 4  # 120 bytes read, then refused; the other 996 chunks never read


def test_declared_length_over_limit_is_refused_before_reading():
    app = BodyLimitMiddleware(_echo_app, max_bytes=100)
    status, _, pulled = _call(app, [b"x" * 10], headers=[(b"content-length", b"1000000")])
    assert status == 413 and pulled == 0


def test_get_requests_pass_through():
    app = BodyLimitMiddleware(_echo_app, max_bytes=1)
    status, body, _ = _call(app, [b"xyz"], method="GET")
    assert (status, body) == (200, b"3")


def test_admission_refuses_beyond_capacity():
    gate = Admission(capacity=2)
    with gate.slot(), gate.slot():
        with pytest.raises(Saturated):
            with gate.slot():
                pass
        assert gate.in_flight == 2
    assert gate.in_flight == 0


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(record.getMessage()))


@pytest.mark.parametrize("log_source", [False, True])
def test_one_log_line_per_request_without_source_by_default(log_source):
    async def app(scope, receive, send):
        scope["state"]["source"] = "SECRET_PROGRAM_TEXT"
        scope["state"]["error_kind"] = "syntax"
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    handler = _Lines()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        status, _, _ = _call(RequestLogMiddleware(app, log_source=log_source), [b"{}"])
    finally:
        logger.removeHandler(handler)
    assert status == 400
    assert len(handler.lines) == 1
    line = handler.lines[0]
    assert line["status"] == 400 and line["error_kind"] == "syntax" and line["ms"] >= 0
    assert len(line["id"]) == 16 and line["path"] == "/api/trace"
    assert ("SECRET_PROGRAM_TEXT" in json.dumps(line)) is log_source

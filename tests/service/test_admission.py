"""Admission control and request logs, driven at the ASGI level (no workers needed)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import json
import logging

import pytest

from app.service.admission import BodyLimitMiddleware, ClientBusy, FairAdmission, Saturated, client_key
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


def test_admission_refuses_beyond_capacity_and_beyond_a_clients_share():
    async def scenario():
        gate = FairAdmission(slots=1, capacity=2, per_client=1)

        async def wait_for_slot(client: str, wait_s: float):
            async with gate.slot(client, wait_s):
                pass

        async with gate.slot("a", 1):
            with pytest.raises(ClientBusy):  # one admitted per address
                await wait_for_slot("a", 1)
            waiting = asyncio.create_task(wait_for_slot("b", 5))  # admitted, waits for the one slot
            await asyncio.sleep(0.01)
            with pytest.raises(Saturated):  # two admitted in all: refused at once
                await wait_for_slot("c", 5)
            assert (gate.in_flight, gate.busy, not waiting.done()) == (2, 1, True)
        await waiting
        with pytest.raises(Saturated):  # no slot frees up in time
            async with gate.slot("a", 1):
                await wait_for_slot("b", 0.01)
        assert (gate.in_flight, gate.busy, dict(gate.admitted), dict(gate.running)) == (0, 0, {}, {})

    _run_in_fresh_loop(scenario())


def test_a_waiting_newcomer_runs_before_a_greedy_clients_queue():
    """Three slots; "greedy" holds all three (it was alone) and queues five more. A newcomer
    arrives: each ending run of "greedy" gives its slot to the newcomer, not to greedy's queue,
    and while both are admitted "greedy" never holds more than its share (3 // 2 = 1)."""
    order = []

    async def scenario():
        gate = FairAdmission(slots=3, capacity=20)
        release = asyncio.Event()

        async def run(client: str, name: str):
            async with gate.slot(client, 5):
                order.append(name)
                if client == "greedy":
                    await release.wait()

        greedy = [asyncio.create_task(run("greedy", f"g{i}")) for i in range(8)]
        await asyncio.sleep(0.01)
        assert order == ["g0", "g1", "g2"]
        newcomer = asyncio.create_task(run("new", "n0"))
        await asyncio.sleep(0.01)
        assert gate.running == {"greedy": 3} and order == ["g0", "g1", "g2"]  # nothing is interrupted
        release.set()
        await newcomer
        assert order.index("n0") == 3  # the first slot given back went to the newcomer
        await asyncio.gather(*greedy)
        assert gate.in_flight == 0

    _run_in_fresh_loop(scenario())


def test_two_greedy_clients_leave_a_slot_for_a_third():
    async def scenario():
        gate = FairAdmission(slots=3, capacity=30)
        stop = asyncio.Event()

        async def greedy(client: str):  # four loops per client, each run 5 ms, again and again
            while not stop.is_set():
                async with gate.slot(client, 5):
                    await asyncio.sleep(0.005)

        tasks = [asyncio.create_task(greedy(client)) for client in ("a", "b") for _ in range(4)]
        await asyncio.sleep(0.1)  # "a" came first and took all three; its runs ended since
        assert gate.running == {"a": 1, "b": 1} and gate.busy == 2  # a share each: 3 // 2
        async with gate.slot("c", 0.001):  # the third gets the free slot at once
            assert gate.running == {"a": 1, "b": 1, "c": 1}
        stop.set()
        await asyncio.gather(*tasks)

    _run_in_fresh_loop(scenario())


@pytest.mark.parametrize("host, key", [("203.0.113.7", "203.0.113.7"), ("::ffff:203.0.113.7", "203.0.113.7"),
                                       ("2001:db8::1", "2001:db8::/64"), ("2001:db8::ffff:1", "2001:db8::/64"),
                                       ("testclient", "testclient"), (None, "unknown")])
def test_client_key_groups_an_ipv6_host_by_its_64(host, key):
    assert client_key(host) == key


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

"""The service against clients that hold it hostage rather than escape (issue 12), on a real server.

One `python -m app serve` process (3 workers, loopback, short timeouts so the suite stays short) and,
in turn: lone surrogates at every entry point; a program whose trace would be 15 MB; 16 clients that
never read a large response; 2,000 half-open connections from 40 addresses; slow heads and bodies;
30 oversized 422 bodies at once; two greedy clients beside a third. Client addresses other than
127.0.0.1 are other loopback addresses (127.0.0.0/8 is all local on Linux). Every phase is bounded
by a count and a deadline, asserts its outcome and adds its figures to the suite's report.
"""

from __future__ import annotations

import json
import resource
import select
import socket
import statistics
import threading
import time
from contextlib import contextmanager

import httpx
import pytest

from tests.security.harness import (REPORT, Server, check_good_trace, finish_prober, good_program, p99, raw_request,
                                    start_prober)

pytestmark = pytest.mark.slow

HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 2.0
SEND_TIMEOUT_S = 3.0
MAX_CONNECTIONS = 1500  # below the 2,000 half-open connections: the oldest make room
MAX_TRACE_BYTES = 8 * 1024 * 1024
ENV = {
    "GRAFO_TIME_LIMIT_S": "20",  # a loaded machine slows the large programs: no time-outs here
    "GRAFO_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "GRAFO_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
    "GRAFO_SEND_TIMEOUT_S": str(SEND_TIMEOUT_S),
    "GRAFO_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "GRAFO_RESULT_CACHE_MB": "0",
    "GRAFO_LOG_LEVEL": "info",
    # Traces as large as the cap allows (by default the worker previews fewer values past 2 MB):
    # what leaves the server is what this suite is about.
    "GRAFO_TRACE_TARGET_BYTES": str(MAX_TRACE_BYTES),
    "GRAFO_MAX_TRACE_BYTES": str(MAX_TRACE_BYTES),
}
HEALTH_P99_MS = 200
PROBE_EVERY_S = 0.02
# ~5.7 MB of trace in ~1.2 s of worker time (200 tensors of 1,000 values): more than the kernel buffers
# of a loopback connection hold, so a client that does not read leaves the server's writes waiting.
LARGE = "import torch\nw = torch.ones(1000, requires_grad=True)\nxs = [w * i for i in range(200)]\nJ = sum(x.sum() for x in xs)\n"
# ~15 MB of trace before any cap (400 tensors of 1,000 values, each with its gradient).
HUGE = "import torch\nw = torch.rand(1000, requires_grad=True)\nxs = [w + i for i in range(400)]\nJ = torch.stack(xs).sum()\n"
GREEDY_RUN_S = 1.5
GREEDY = ("import time\nimport torch\nw = torch.ones(1, requires_grad=True)\nstart = time.monotonic()\n"
          f"while time.monotonic() - start < {GREEDY_RUN_S}:\n    pass\nJ = (2 * w).sum()\n")


@pytest.fixture(scope="module")
def server():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 8192):  # this process holds 2,000+ sockets in one phase
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    instance = Server(ENV, workers=3, name="hardening")
    try:
        instance.wait_ready()
        yield instance
    finally:
        assert instance.stop() == [], "processes left after the server stopped"


# -- helpers ---------------------------------------------------------------------------------------


@contextmanager
def probing(server: Server):
    """Probe /api/health (harness.PROBER, another process) while the block runs; the dict it yields
    gets `latencies` (ms) and `failures` when the block ends."""
    prober = start_prober(server.port, 120, PROBE_EVERY_S)
    result: dict = {}
    try:
        yield result
    finally:
        result.update(finish_prober(prober))


def health_ok(result: dict, what: str, p99_ms: float = HEALTH_P99_MS) -> str:
    latencies = result["latencies"]
    worst = p99(latencies)
    assert result["failures"] == [], f"{what}: health failed {result['failures'][:5]}"
    assert len(latencies) > 20, f"{what}: only {len(latencies)} probes"
    assert worst < p99_ms, f"{what}: health p99 {worst:.1f} ms"
    return f"health p99 {worst:.1f} ms (max {max(latencies):.0f} ms) over {len(latencies)} probes"


def trace_good(server: Server, index: int, client: httpx.Client | None = None) -> float:
    """Trace a good program, check its values against torch; returns the round trip in ms."""
    source, expected_j, expected_grad = good_program(index)
    started = time.perf_counter()
    if client is None:
        response = httpx.post(server.url + "/api/trace", json={"source": source}, timeout=30)
    else:
        response = client.post("/api/trace", json={"source": source})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text[:500]
    check_good_trace(response.json(), expected_j, expected_grad)
    return elapsed


def connect_from(server: Server, address: str, timeout_s: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout_s, source_address=(address, 0))


def server_side_peers(server: Server) -> set[int]:
    """Client ports of the server's established connections."""
    return {conn.raddr.port for conn in server.ps.net_connections(kind="tcp")
            if conn.status == "ESTABLISHED" and conn.laddr.port == server.port and conn.raddr}


def wait_closed(sockets: list[socket.socket], deadline: float) -> dict[int, float]:
    """Read every socket until the server closes it (EOF or reset); index -> when it closed."""
    closed: dict[int, float] = {}
    for sock in sockets:
        sock.setblocking(False)
    by_fd = {sock.fileno(): index for index, sock in enumerate(sockets)}
    poller = select.poll()
    for fd in by_fd:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while len(closed) < len(sockets) and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            index = by_fd[fd]
            try:
                data = sockets[index].recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed[index] = time.monotonic()
                poller.unregister(fd)
    return closed


def log_lines(server: Server, event: str) -> int:
    return sum(1 for line in server.log_path.read_text(errors="replace").splitlines() if f'"event": "{event}"' in line)


def close_all(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


# -- the phases ------------------------------------------------------------------------------------


# A program holding one (JSON's json.loads decodes raw CESU-8 bytes to one too) is the engine's to
# refuse (400); in any other field it is a 422.
SURROGATE_BODIES = {
    "source": b'{"source": "\\ud800"}',
    "root": b'{"source": "x = 1", "root": "\\udfff"}',
    "eps": b'{"source": "x = 1", "eps": "\\ud800"}',
    "gradcheck": b'{"source": "x = 1", "gradcheck": "\\udfff"}',
    "unknown key and value": b'{"source": "x = 1", "\\ud800": "\\udfff"}',
    "nested": b'{"source": ["\\ud800", {"\\udfff": ["\\ud800"]}]}',
    "reversed pair": b'{"source": "\\udc00\\ud800"}',
    "raw CESU-8 bytes": b'{"source": "\xed\xa0\x80"}',
    "key of 100 KB": b'{"source": "x = 1", "' + b"\\ud800" * 16_000 + b'": 1}',
}
SURROGATE_PROGRAMS = {  # escapes inside the program's text: the surrogate exists only when it runs
    "program output": "import torch\nw = torch.ones(2, requires_grad=True)\nJ = (3 * w).sum()\nprint('\\ud800' * 3)\n",
    "torch error echo": ("import torch\nimport torch.nn.functional as F\n"
                         "J = F.mse_loss(torch.ones(1), torch.ones(1), reduction='\\ud800')\n"),
    "exception message": "raise ValueError('\\udfff' * 1000)\n",
}


def test_surrogates_at_every_entry_point(server):
    results = {}
    for name, body in SURROGATE_BODIES.items():
        results[name] = raw_request(server.port, "POST", "/api/trace", {"content-type": "application/json"}, body)
    for name, source in SURROGATE_PROGRAMS.items():
        body = json.dumps({"source": source}).encode()
        results[name] = raw_request(server.port, "POST", "/api/trace", {"content-type": "application/json"}, body)
    results["path"] = raw_request(server.port, "GET", "/api/%ED%A0%80", {})
    results["header"] = raw_request(server.port, "GET", "/api/health", {"x-name": "\xed\xa0\x80"})
    for name, (status, body) in results.items():
        assert 0 < status < 500, (name, status, body[:300])
        text = body.decode("utf-8")  # strict: a response is always valid UTF-8
        assert "\ud800" not in text and "\udfff" not in text
        json.loads(text)
        if name in SURROGATE_BODIES:
            expected = (400, 422) if name in ("source", "reversed pair", "raw CESU-8 bytes") else (422,)
            assert status in expected and len(body) < 4096, (name, status, len(body))
    assert results["torch error echo"][0] == 400 and results["exception message"][0] == 400
    assert results["program output"][0] in (200, 400)
    log = server.log_path.read_text(errors="replace")
    assert "Exception in ASGI application" not in log  # what a 500 would have logged
    assert max(len(line) for line in log.splitlines()) < 10_000  # a worker's traceback, if any, is cut
    statuses = ", ".join(f"{name} {status}" for name, (status, _) in results.items())
    REPORT.append(f"hardening: surrogates at {len(results)} entry points, no 5xx, every body valid UTF-8 JSON "
                  f"({statuses}); 422 bodies at most {max(len(results[n][1]) for n in SURROGATE_BODIES)} bytes")


def test_a_trace_larger_than_the_cap_never_leaves_the_server(server):
    started = time.perf_counter()
    response = httpx.post(server.url + "/api/trace", json={"source": HUGE, "gradcheck": False}, timeout=60)
    elapsed = time.perf_counter() - started
    assert response.status_code in (200, 400), response.text[:300]
    assert len(response.content) <= MAX_TRACE_BYTES
    if response.status_code == 400:
        assert response.json()["error"]["kind"] == "limit"
    REPORT.append(f"hardening: the 15 MB program answered {response.status_code} with {len(response.content):,} bytes "
                  f"(cap {MAX_TRACE_BYTES:,}) in {elapsed:.2f} s")


def test_sixteen_clients_that_never_read(server):
    body = json.dumps({"source": LARGE, "gradcheck": False}).encode()
    request = (b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body

    def read_one(_):  # warm up: three at once, as many as there are workers, read normally
        response = httpx.post(server.url + "/api/trace", content=body, timeout=60,
                              headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text[:300]
        return len(response.content)

    threads_out: list[int] = []
    warmers = [threading.Thread(target=lambda: threads_out.append(read_one(None))) for _ in range(3)]
    for thread in warmers:
        thread.start()
    for thread in warmers:
        thread.join(60)
    size = max(threads_out)
    assert size > 5_000_000, size
    time.sleep(0.5)
    baseline = statistics.median(server.rss() for _ in range(5))

    sockets = []
    for _ in range(16):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read it
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(request)
        sockets.append(sock)
    ports = {sock.getsockname()[1] for sock in sockets}
    started = time.monotonic()
    peak = baseline
    seen = False
    with probing(server) as health:
        while time.monotonic() - started < 60:
            peak = max(peak, server.rss())
            held = ports & server_side_peers(server)
            seen = seen or held == ports  # all accepted (before that, some wait in the listen queue)
            if seen and not held:
                break
            time.sleep(0.1)
        gone_after = time.monotonic() - started
    close_all(sockets)
    time.sleep(1.0)
    after = server.rss()
    assert seen and not ports & server_side_peers(server), "the server kept connections of clients that never read"
    growth, left = (peak - baseline) / 1e6, (after - baseline) / 1e6
    assert growth < 16 * size * 1.25 / 1e6 + 64, f"server grew {growth:.0f} MB"
    assert left < 32, f"server still {left:.0f} MB bigger after the clients left"
    lines = log_lines(server, "connection_send_timeout")
    assert 1 <= lines <= 3, lines  # 16 events, rate-limited to one line per interval
    # Health is slower here than elsewhere for a reason outside this phase: the pool validates each
    # 6 MB trace (Trace.model_validate_json, ~250 ms holding the GIL) before the event loop sees it.
    health = health_ok(health, "never-read", p99_ms=1000)
    REPORT.append(f"hardening: 16 clients never read a {size / 1e6:.1f} MB trace: all cut off within {gone_after:.1f} s "
                  f"(send timeout {SEND_TIMEOUT_S:g} s), server RSS {baseline / 1e6:.0f} MB -> peak +{growth:.0f} MB "
                  f"-> +{left:.0f} MB after; {lines} log line(s); {health}")


def test_two_thousand_half_open_connections(server):
    sockets: list[socket.socket] = []
    opened: list[float] = []
    half_head = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: "
    with probing(server) as health:
        time.sleep(0.5)
        started = time.monotonic()
        for index in range(2000):  # 40 addresses, 50 connections each (the per-address cap is 64)
            sock = connect_from(server, f"127.0.0.{10 + index % 40}")
            sock.sendall(half_head)
            sockets.append(sock)
            opened.append(time.monotonic())
        open_s = time.monotonic() - started
        lesson_ms = trace_good(server, 1)  # a real request gets through meanwhile
        crowd = [connect_from(server, "127.0.0.60") for _ in range(100)]  # one address, over its cap
        refused_at_once = len(wait_closed(crowd, time.monotonic() + 0.5))
        closed = wait_closed(sockets, time.monotonic() + HEADER_TIMEOUT_S + 8)
    close_all(sockets + crowd)
    lifetimes = [closed[index] - opened[index] for index in closed]
    assert len(closed) == len(sockets), f"{len(sockets) - len(closed)} half-open connections still open"
    assert max(lifetimes) < HEADER_TIMEOUT_S + 3, max(lifetimes)
    assert refused_at_once >= 100 - 64, refused_at_once
    evicted = sum(1 for life in lifetimes if life < HEADER_TIMEOUT_S - 0.2)
    assert evicted >= 2000 - MAX_CONNECTIONS - 10, evicted  # the cap made room by closing the oldest
    REPORT.append(f"hardening: 2,000 half-open connections from 40 addresses (opened in {open_s:.1f} s): "
                  f"{evicted} closed early to stay under {MAX_CONNECTIONS}, the rest at the {HEADER_TIMEOUT_S:g} s head "
                  f"timeout (longest {max(lifetimes):.1f} s); one address opening 100: {refused_at_once} closed at once; "
                  f"a good program traced in {lesson_ms:.0f} ms meanwhile; {health_ok(health, 'half-open')}; "
                  f"{log_lines(server, 'connection_evicted')} log line(s) for the evictions")


def test_slow_heads_and_bodies_are_cut_off(server):
    head = connect_from(server, "127.0.0.70")
    body = connect_from(server, "127.0.0.71")
    body.sendall(b"POST /api/trace HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    started = time.monotonic()
    closed_at: dict[str, float] = {}
    for step in range(60):  # a byte every 0.1 s on each: progress, but never done
        for name, sock in (("head", head), ("body", body)):
            if name in closed_at:
                continue
            try:
                sock.sendall(b"X" if name == "head" else b" ")
            except OSError:
                closed_at[name] = time.monotonic() - started
        if len(closed_at) == 2:
            break
        time.sleep(0.1)
    close_all([head, body])
    assert set(closed_at) == {"head", "body"}, closed_at
    assert closed_at["head"] < HEADER_TIMEOUT_S + 1.5 and closed_at["body"] < BODY_TIMEOUT_S + 1.5, closed_at
    REPORT.append(f"hardening: a head sent a byte at a time was cut after {closed_at['head']:.1f} s, a body after "
                  f"{closed_at['body']:.1f} s (timeouts {HEADER_TIMEOUT_S:g} s and {BODY_TIMEOUT_S:g} s)")


def _oversized_bodies() -> list[bytes]:
    keys = [b'"k%d": 1' % index for index in range(10_700)]  # 10,700 unknown keys in ~127 KB
    unknown = b'{"source": "x = 1", ' + b", ".join(keys) + b"}"
    assert 120_000 < len(unknown) < 128 * 1024, len(unknown)
    many_items = json.dumps({"source": list(range(24_000))}).encode()[:127_000].rsplit(b",", 1)[0] + b"]}"
    nested = b'{"source": ' + b"[" * 60_000 + b"]" * 60_000 + b"}"
    return [unknown] * 20 + [many_items] * 5 + [nested] * 5


def test_thirty_oversized_422_bodies_at_once(server):
    bodies = _oversized_bodies()
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, int, float]] = []

    def send(body: bytes) -> None:
        barrier.wait(10)
        started = time.perf_counter()
        status, content = raw_request(server.port, "POST", "/api/trace", {"content-type": "application/json"}, body)
        results.append((status, len(content), (time.perf_counter() - started) * 1000))

    with probing(server) as health:
        time.sleep(0.5)
        threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        time.sleep(0.5)
    assert len(results) == len(bodies)
    assert all(status == 422 for status, _, _ in results), sorted({status for status, _, _ in results})
    largest = max(size for _, size, _ in results)
    assert largest < 2048, largest
    slowest = max(ms for _, _, ms in results)
    REPORT.append(f"hardening: {len(bodies)} bodies of ~127 KB at once (10,000+ unknown keys, 20,000-item arrays, "
                  f"60,000-deep nesting): all 422, largest answer {largest} bytes, slowest {slowest:.0f} ms; "
                  f"{health_ok(health, '422 burst')}")


def test_two_greedy_clients_leave_room_for_a_third(server):
    def third_client() -> httpx.Client:
        return httpx.Client(base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.4"))

    with third_client() as third:
        alone = [trace_good(server, 100 + index, third) for index in range(6)]
    stop = threading.Event()
    counts = {"runs": 0, "429": 0, "other": []}
    lock = threading.Lock()

    def greedy(address: str) -> None:
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=server.url, timeout=60, transport=transport) as client:
            while not stop.is_set():
                response = client.post("/api/trace", json={"source": GREEDY, "gradcheck": False})
                with lock:
                    if response.status_code == 200:
                        counts["runs"] += 1
                    elif response.status_code == 429:
                        counts["429"] += 1
                        stop.wait(float(response.headers["retry-after"]))
                    else:
                        counts["other"].append((response.status_code, response.text[:200]))

    threads = [threading.Thread(target=greedy, args=(address,), daemon=True)
               for address in ("127.0.0.2", "127.0.0.3") for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(GREEDY_RUN_S * 2)  # past the first runs: each greedy address now holds its share
        with third_client() as third:
            loaded = [trace_good(server, 200 + index, third) for index in range(8)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(GREEDY_RUN_S * 4 + 10)
    assert counts["other"] == [], counts["other"][:3]
    assert counts["runs"] >= 4, counts
    median_alone, median_loaded = statistics.median(alone), statistics.median(loaded)
    # Relative, not absolute: the third never waits for a greedy run to end (it has a worker of
    # its own); CPU is shared with two busy workers, so allow it to be a few times slower.
    assert max(loaded) < GREEDY_RUN_S * 1000 / 2, loaded
    assert median_loaded < median_alone * 5 + 100, (median_alone, median_loaded)
    REPORT.append(f"hardening: two greedy addresses (6 loops each on {GREEDY_RUN_S:g} s programs, {counts['runs']} runs, "
                  f"{counts['429']} answered 429) beside a third on 3 workers: its good programs took median "
                  f"{median_loaded:.0f} ms (max {max(loaded):.0f} ms) against {median_alone:.0f} ms alone")

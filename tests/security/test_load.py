"""Load and faults: a real uvicorn process on loopback, 30 s of mixed traffic from 16 concurrent
clients while a worker is SIGKILLed from outside every few seconds.

Traffic: good programs (each different, checked against torch computed here), CPU bombs (the budget
guard relaxed through its settings so they really burn CPU until the time limit kills them), memory
bombs (past the worker's RLIMIT_DATA), and malformed requests. Asserted: zero 5xx, every good
program answered 200 with torch's values, health probe p99 under 200 ms, and no process of the
server's family left alive after it stops. It stops by itself: a fixed duration, bounded requests.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.security.harness import (REPORT, Server, check_good_trace, finish_prober, good_program, p99 as p99_of,
                                    raw_request, start_prober)

DURATION_S = 30.0
KILL_EVERY_S = 3.0
HEALTH_EVERY_S = 0.05
MAX_REQUESTS = 20_000  # a bound on top of the duration
ROLES = ["good"] * 8 + ["cpu"] * 2 + ["memory"] * 2 + ["malformed"] * 4  # 16 clients

# Test-only settings: the guard relaxed (elements, FLOPs) so bombs reach the outer limits.
ENV = {
    "GRAFO_TIME_LIMIT_S": "1",
    "GRAFO_MAX_TENSOR_ELEMENTS": str(10**9),
    "GRAFO_MAX_TOTAL_ELEMENTS": str(10**10),
    "GRAFO_MAX_MATMUL_FLOPS": str(10**13),
    "GRAFO_MEMORY_LIMIT_MB": "512",
    "GRAFO_QUEUE_WAIT_S": "30",
    "GRAFO_RESULT_CACHE_MB": "0",  # every good program runs on a worker
    "GRAFO_LOG_LEVEL": "warning",
}
CPU_BOMB = "import torch\na = torch.ones(3000, 3000)\nb = a @ a\nc = b @ a\nd = c @ a\n"  # ~160 GFLOP
CPU_BOMB_PYTHON = "import torch\na = torch.rand(500, 500)\n" + "b = a @ a\n" * 300  # many medium ops
MEMORY_BOMB = "import torch\nx = torch.ones(30000, 30000)\n"  # 3.6 GB > RLIMIT_DATA
MEMORY_BOMB_MANY = "import torch\n" + "".join(f"x{i} = torch.ones(4000, 4000)\n" for i in range(12))
MALFORMED = [
    ("POST", "/api/trace", {"content-type": "application/json"}, b"{not json", None, 422),
    ("POST", "/api/trace", {"content-type": "application/json"}, b'{"source": "x = 1", "extra": 1}', None, 422),
    ("POST", "/api/trace", {"content-type": "application/json"}, b'{"source": "' + b"x" * 300_000 + b'"}', None, 413),
    ("POST", "/api/trace", {"content-type": "application/json"}, b"", [b'{"source": "', b"y" * 300_000], 413),
    ("POST", "/api/trace", {"content-type": "text/plain"}, b'{"source": "x = 1"}', None, 422),
    ("POST", "/api/trace", {"content-type": "application/json"}, b'{"source": "\xff"}', None, 422),
]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.by_role: dict[str, Counter] = {role: Counter() for role in set(ROLES)}
        self.failures: list[str] = []
        self.requests = 0
        self.health_ms: list[float] = []
        self.health_failures: list[str] = []
        self.kills = 0

    def record(self, role: str, status: int, failure: str | None = None) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            self.by_role[role][status] += 1
            if failure:
                self.failures.append(failure)


def _client(server: Server, role: str, index: int, stop: threading.Event, stats: Stats) -> None:
    rng = random.Random(index)
    counter = 0
    with httpx.Client(base_url=server.url, timeout=60) as client:
        while not stop.is_set() and stats.requests < MAX_REQUESTS:
            counter += 1
            if role == "malformed":
                method, path, headers, body, chunks, expected = rng.choice(MALFORMED)
                status, content = raw_request(server.port, method, path, headers, body, chunks)
                stats.record(role, status, None if status == expected else f"malformed: {status} {content[:200]!r}")
                time.sleep(0.02)
                continue
            if role == "good":
                source, expected_j, expected_grad = good_program(100_000 + index * 10_000 + counter)
            elif role == "cpu":
                source = rng.choice([CPU_BOMB, CPU_BOMB_PYTHON])
            else:
                source = rng.choice([MEMORY_BOMB, MEMORY_BOMB_MANY])
            response = client.post("/api/trace", json={"source": source})
            failure = None
            if role == "good":
                if response.status_code != 200:
                    failure = f"good program: {response.status_code} {response.text[:300]}"
                else:
                    try:
                        check_good_trace(response.json(), expected_j, expected_grad)
                    except AssertionError as error:
                        failure = f"good program, wrong values: {error}"
            elif response.status_code != 400:
                failure = f"{role} bomb: {response.status_code} {response.text[:300]}"
            else:
                error = response.json()["error"]
                if error["kind"] not in ("timeout", "limit"):
                    failure = f"{role} bomb: kind {error['kind']}: {error['message'][:200]}"
            stats.record(role, response.status_code, failure)


def _start_prober(server: Server) -> subprocess.Popen:
    """The health prober (harness.PROBER) runs in its own process, so what it measures is the
    server, not this process's GIL (shared with 16 client threads)."""
    return start_prober(server.port, DURATION_S, HEALTH_EVERY_S)


def _killer(server: Server, stop: threading.Event, stats: Stats) -> None:
    rng = random.Random(7)
    while not stop.wait(KILL_EVERY_S):
        pids = server.worker_pids()
        if pids:
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                stats.kills += 1
            except ProcessLookupError:
                pass


@pytest.mark.slow
def test_load_and_faults():
    server = Server(ENV, workers=2, name="load")
    orphans = None
    try:
        server.wait_ready()
        stats = Stats()
        stop = threading.Event()
        threads = [threading.Thread(target=_client, args=(server, role, i, stop, stats), daemon=True)
                   for i, role in enumerate(ROLES)]
        threads.append(threading.Thread(target=_killer, args=(server, stop, stats), daemon=True))
        prober = _start_prober(server)
        for thread in threads:
            thread.start()
        probes = finish_prober(prober, stop=False, timeout_s=DURATION_S + 60)
        stats.health_ms, stats.health_failures = probes["latencies"], probes["failures"]
        stop.set()
        for thread in threads:
            thread.join(90)
        assert not any(thread.is_alive() for thread in threads), "a client did not finish"
        health = httpx.get(server.url + "/api/health", timeout=10).json()
    finally:
        orphans = server.stop()

    p99 = p99_of(stats.health_ms)
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(stats.statuses.items()))
    good = stats.by_role["good"]
    REPORT.append(
        f"load: {stats.requests} requests in {DURATION_S:g} s from {len(ROLES)} clients ({statuses}); "
        f"good programs {good[200]}/{sum(good.values())} correct; health p99 {p99:.1f} ms "
        f"(median {statistics.median(stats.health_ms):.1f} ms, {len(stats.health_ms)} probes); "
        f"{stats.kills} workers SIGKILLed, {health['pool']['restarts']} replaced; orphans {len(orphans)}"
    )
    assert not [status for status in stats.statuses if status >= 500], stats.statuses
    assert stats.failures == [], stats.failures[:10]
    assert stats.health_failures == [], stats.health_failures[:10]
    assert good[200] > 50, good
    assert stats.kills >= DURATION_S // KILL_EVERY_S - 2
    assert p99 < 200, f"health p99 {p99:.1f} ms"
    assert orphans == [], f"processes left after the server stopped: {orphans}"

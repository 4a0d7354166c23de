"""Fixtures for the web service tests: in-process apps (httpx through Starlette's TestClient, which
runs the app's lifespan and so its real worker pool) and a real uvicorn process on a loopback port.

Nothing here fakes the engine: every request runs the real engine in a real worker process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.service.api import create_app
from app.settings import Limits, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]

# One op, matrix_power, doing about 120 matmuls of 4000x4000 in C++ (15 TFLOP, minutes even on many
# cores; two plain matmuls finished inside the 0.8 s kill window on a fast CI machine, and the
# worker's own alarm fired between them). No Python runs inside it; what comes before it takes milliseconds, far below the tight client's 0.5 s even on a
# loaded machine (5000x5000 spent long enough in `ones` that the cooperative deadline fired first).
SLOW_SINGLE_OP = "import torch\na = torch.ones(4000, 4000)\nb = torch.linalg.matrix_power(a, 2**62 - 1)\n"
# 200 medium matmuls (86 GFLOP in all): the engine's cooperative deadline stops it between two.
SLOW_MANY_OPS = "import torch\na = torch.ones(600, 600)\n" + "".join(f"b{i} = a @ a\n" for i in range(200))


def make_client(settings: ServiceSettings, limits: Limits | None = None) -> TestClient:
    return TestClient(create_app(settings, limits), raise_server_exceptions=False)


@pytest.fixture(scope="session")
def client():
    """The default service, two workers, default limits; no result cache, so every request runs.
    Every request comes from one address here, and some tests send 20 at once: no per-client cap."""
    with make_client(ServiceSettings(workers=2, result_cache_mb=0, max_runs_per_client=64)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def tight_client():
    """Low time limit and memory cap: for timeouts, kills and memory."""
    settings = ServiceSettings(workers=2, time_limit_s=0.5, kill_grace_s=0.3, memory_limit_mb=768, result_cache_mb=0)
    with make_client(settings) as test_client:
        yield test_client


def wait_until(predicate, timeout_s: float = 20.0, interval_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def tensor_named(trace: dict, name: str) -> dict:
    """The last tensor node bound to `name`."""
    found = [node for node in trace["nodes"] if node["kind"] == "tensor" and name in (node.get("names") or [])]
    assert found, f"no tensor named {name}"
    return found[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (read from /proc; Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class LiveServer:
    """`python -m app serve` on a free loopback port, the way `make serve` starts it."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / "test-output" / f"server-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(workers)]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=self._log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                return httpx.get(self.url + "/api/health", timeout=2).json()["pool"]["alive"] >= 1
            except (httpx.HTTPError, ValueError, KeyError):
                return False

        assert wait_until(healthy, timeout_s, 0.1), self.log_path.read_text()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._log.close()


@pytest.fixture(scope="session")
def live_server():
    server = LiveServer({"GRAFO_TIME_LIMIT_S": "5", "GRAFO_MAX_BODY_BYTES": str(64 * 1024), "GRAFO_RESULT_CACHE_MB": "0",
                         "GRAFO_MAX_RUNS_PER_CLIENT": "64"})  # 20 requests at once from one address
    try:
        server.wait_ready()
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()

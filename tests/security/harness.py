"""Shared pieces of the security suite: a real server process, a raw HTTP client, the checks run
after every hostile case, and the report printed at the end of the test session."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import torch

ROOT = Path(__file__).resolve().parents[2]

# Lines printed at the end of the session (see conftest.pytest_terminal_summary).
REPORT: list[str] = []

GOOD_TEMPLATE = """\
import torch
w = torch.tensor([{a}, -1.0, 2.0], requires_grad=True)
x = torch.arange(3.0)
J = ((x * w).sigmoid() ** 2).sum()
J.backward()
"""


def good_program(index: int) -> tuple[str, float, list[float]]:
    """A good program (different for every index, so the server's result cache never answers it)
    and its J and dJ/dw computed by torch directly, in this process."""
    a = round(0.5 + index * 0.001, 6)
    w = torch.tensor([a, -1.0, 2.0], requires_grad=True)
    x = torch.arange(3.0)
    J = ((x * w).sigmoid() ** 2).sum()
    J.backward()
    return GOOD_TEMPLATE.format(a=a), J.item(), w.grad.tolist()


GOOD_PROGRAM = good_program(0)[0]


def check_good_trace(data: dict, expected_j: float, expected_grad: list[float]) -> None:
    """The good program's trace carries the values torch computes directly."""
    named = {}
    for node in data["nodes"]:
        if node["kind"] == "tensor":
            for name in node.get("names") or []:
                named[name] = node
    assert abs(named["J"]["value"]["data"] - expected_j) < 1e-5, (named["J"]["value"], expected_j)
    grad = named["w"]["grad"]["data"]
    assert all(abs(a - b) < 1e-5 for a, b in zip(grad, expected_grad, strict=True)), (grad, expected_grad)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`python -m app serve` in a fresh working directory, HOME and TMPDIR (its own temp space)."""

    def __init__(self, env: dict[str, str] | None = None, workers: int = 2, name: str = "security"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base = Path(tempfile.mkdtemp(prefix=f"grafo-{name}-"))
        self.cwd = self.base / "cwd"
        self.home = self.base / "home"
        self.tmp = self.base / "tmp"  # the server's own temp space (forkserver socket lives here)
        for path in (self.cwd, self.home, self.tmp):
            path.mkdir()
        self.log_path = ROOT / "test-output" / f"{name}-server-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        environment = {
            **os.environ,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(workers)]
        self.process = subprocess.Popen(command, cwd=self.cwd, env=environment, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.ps = psutil.Process(self.process.pid)

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                health = httpx.get(self.url + "/api/health", timeout=2).json()
                if health["pool"]["alive"] >= health["pool"]["workers"]:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready: {self.log_path.read_text()}")

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def descendants(self) -> list[psutil.Process]:
        try:
            return self.ps.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> list[int]:
        """Worker processes: the children of the forkserver, which runs the preloaded worker module."""
        return [p.pid for p in self.descendants() if _is_worker(p)]

    def stop(self) -> list[int]:
        """SIGINT, wait; returns the pids of descendants still alive afterwards (orphans)."""
        family = self.descendants()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        deadline = time.monotonic() + 10
        alive = [p for p in family if _alive(p)]
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [p for p in alive if _alive(p)]
        orphans = [p.pid for p in alive]
        for process in alive:  # clean up anyway, so a failing test leaves nothing behind
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        shutil.rmtree(self.base, ignore_errors=True)
        return orphans


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _is_worker(process: psutil.Process) -> bool:
    try:
        parent = process.parent()
        return parent is not None and "forkserver" in " ".join(parent.cmdline())
    except psutil.NoSuchProcess:
        return False


def raw_request(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                chunks: list[bytes] | None = None, timeout_s: float = 30.0) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side validation) and read the answer until the server closes.

    A header named `content-length-override` is sent as `Content-Length` with its value verbatim;
    with `chunks`, the body goes out with `Transfer-Encoding: chunked` and no length at all.
    """
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    override = headers.get("content-length-override")
    for name, value in headers.items():
        if name != "content-length-override":
            lines.append(f"{name}: {value}")
    if chunks is not None:
        lines.append("Transfer-Encoding: chunked")
        payload = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {override if override is not None else len(body)}")
        payload = body
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head)
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413) and closed: read what it said
        received = bytearray()
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received.extend(data)
    head_bytes, _, rest = bytes(received).partition(b"\r\n\r\n")
    status = int(head_bytes.split(b" ", 2)[1]) if head_bytes else 0
    if b"transfer-encoding: chunked" in head_bytes.lower():
        rest = _dechunk(rest)
    return status, rest


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.extend(data[:size])
        data = data[size + 2:]
    return bytes(out)


# Probes /api/health every `every` seconds on one keep-alive connection, for `duration` seconds or
# until it gets SIGTERM, then prints the latencies (ms) and failures as JSON. A process of its own,
# so that what it measures is the server, not the GIL of a test process busy with many clients.
PROBER = """
import http.client, json, signal, sys, time
port, duration, every = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
stopped = []
signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
latencies, failures = [], []
end = time.monotonic() + duration
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
while time.monotonic() < end and not stopped:
    started = time.perf_counter()
    try:
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            failures.append(response.status)
    except Exception as error:
        failures.append(repr(error))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    time.sleep(every)
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


def start_prober(port: int, duration_s: float, every_s: float) -> subprocess.Popen:
    """The health prober, running; `finish_prober` stops it early and returns its figures."""
    return subprocess.Popen([sys.executable, "-c", PROBER, str(port), str(duration_s), str(every_s)],
                            stdout=subprocess.PIPE, text=True)


def finish_prober(prober: subprocess.Popen, stop: bool = True, timeout_s: float = 90) -> dict:
    """{"latencies": [ms...], "failures": [...]} once the prober ends (at once if `stop`)."""
    if stop:
        prober.terminate()
    return json.loads(prober.communicate(timeout=timeout_s)[0])


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]

"""Half-open connections against the server: plain uvicorn (as Grafo ran it before) and Grafo's
guarded uvicorn protocol (`app/service/connections.py`), side by side.

For each server and each file-descriptor limit: open N connections from 40 loopback addresses,
each sending half a request head and nothing more, hold them for a while, and meanwhile probe
/api/health every 20 ms from another process and trace the lesson once. Prints health p50/p99/max
and failures, the lesson's status and time, how many of the connections the server still held at
the end, and how many bytes of log the server wrote.

    .venv/bin/python bench/slow_clients.py [--connections 2000] [--hold 8] [--nofile 0 1024]

`--nofile 1024` runs the server with soft and hard RLIMIT_NOFILE at 1,024 (a common default):
past it, accept() fails. 0 leaves the limit as it is.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.examples import LESSON  # noqa: E402
from tests.security.harness import finish_prober, p99, start_prober  # noqa: E402

PLAIN_UVICORN = """
import sys, uvicorn
from app.service.api import create_app
from app.settings import ServiceSettings
settings = ServiceSettings.from_env()
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[1]), access_log=False,
            log_level=settings.log_level)
"""
SERVERS = {
    "uvicorn": lambda port: [sys.executable, "-c", PLAIN_UVICORN, str(port)],
    "guarded": lambda port: [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
}
HALF_HEAD = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(kind: str, nofile: int, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()

    def limit_files() -> None:
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    env = {**os.environ, "GRAFO_WORKERS": "2", "GRAFO_RESULT_CACHE_MB": "0", "GRAFO_LOG_LEVEL": "warning",
           "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(SERVERS[kind](port), cwd=ROOT, env=env, stdout=log_path.open("wb"),
                              stderr=subprocess.STDOUT, preexec_fn=limit_files)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json()["pool"]["alive"] >= 1:
                return server, port
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{kind} did not start: {log_path.read_text()[-2000:]}")


def held_by_server(pid: int, port: int) -> int:
    """Established connections the server process holds on its port (from /proc via ss-like scan)."""
    import psutil

    return sum(1 for conn in psutil.Process(pid).net_connections(kind="tcp")
               if conn.status == "ESTABLISHED" and conn.laddr.port == port)


def scenario(kind: str, nofile: int, connections: int, hold_s: float) -> dict:
    log_path = Path(tempfile.mkstemp(prefix=f"grafo-bench-{kind}-", suffix=".log")[1])
    server, port = start(kind, nofile, log_path)
    log_before = log_path.stat().st_size
    prober = start_prober(port, 120, 0.02)
    sockets, refused = [], 0
    try:
        time.sleep(0.5)
        for index in range(connections):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2,
                                                source_address=(f"127.0.0.{10 + index % 40}", 0))
                sock.sendall(HALF_HEAD)
                sockets.append(sock)
            except OSError:
                refused += 1
        time.sleep(0.5)
        started = time.perf_counter()
        try:
            lesson = httpx.post(f"http://127.0.0.1:{port}/api/trace", json={"source": LESSON}, timeout=15)
            lesson_result = f"{lesson.status_code} in {(time.perf_counter() - started) * 1000:.0f} ms"
        except httpx.HTTPError as error:
            lesson_result = f"failed after {(time.perf_counter() - started) * 1000:.0f} ms ({type(error).__name__})"
        time.sleep(max(0.0, hold_s - 1.0))
        held = held_by_server(server.pid, port)
    finally:
        probes = finish_prober(prober)
        for sock in sockets:
            sock.close()
        server.terminate()
        server.wait(30)
    latencies = sorted(probes["latencies"]) or [float("nan")]
    return {
        "server": kind, "nofile": nofile or resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "opened": len(sockets), "connect_failed": refused, "held_at_end": held,
        "health_p50_ms": round(statistics.median(latencies), 1),
        "health_p99_ms": round(p99(latencies), 1),
        "health_max_ms": round(latencies[-1], 1), "health_ok": len(probes["latencies"]),
        "health_failed": len(probes["failures"]), "lesson": lesson_result,
        "log_bytes": log_path.stat().st_size - log_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=8.0, help="seconds the connections are held")
    parser.add_argument("--nofile", type=int, nargs="+", default=[0, 1024])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.connections + 1024)), hard))
    rows = [scenario(kind, nofile, args.connections, args.hold) for nofile in args.nofile for kind in SERVERS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        print(f"{row['server']:8} nofile {row['nofile']:>6}: {row['opened']} half-open held by client "
              f"({row['connect_failed']} connects failed), {row['held_at_end']} still held by the server; health "
              f"p50 {row['health_p50_ms']} / p99 {row['health_p99_ms']} / max {row['health_max_ms']} ms, "
              f"{row['health_ok']} ok, {row['health_failed']} failed; lesson {row['lesson']}; "
              f"log {row['log_bytes']:,} bytes")


if __name__ == "__main__":
    main()

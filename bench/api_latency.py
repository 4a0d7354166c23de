"""End-to-end latency and throughput of POST /api/trace against a real server.

Starts `python -m app serve` on a free loopback port (the way `make serve` does), then for the
lesson and for a 1,000-op program reports: p50/p95/p99 latency of sequential requests, throughput
with 8 concurrent clients, and the peak memory of the server with all its processes (forkserver
and workers): the sum of RSS (counts pages shared between processes once per process) and of PSS
(shares them out; the honest total).

    .venv/bin/python bench/api_latency.py [--workers N] [--requests N] [--baseline REF] [--json]

`--baseline REF` (default: the last commit with the allowlisted interpreter) also serves that
commit from a temporary git worktree, with the same Python, and measures the lesson there in the
same run: the before/after of the sandboxed real-Python runner. `--baseline none` skips it.

Targets on a 2-core machine: lesson p50 under 15 ms, at least 150 traces/s with 8 clients.
The client runs on the same machine and takes CPU from the server: the figures are conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.examples import LESSON  # noqa: E402


def thousand_op_program() -> str:
    """250 statements of 4 recorded ops each (mul, add, tanh, sub), then sum and backward."""
    lines = ["import torch", "w = torch.tensor([0.5, -0.3, 0.8], requires_grad=True)", "h = w"]
    lines += ["h = (h * w + 0.1).tanh() - 0.05"] * 250
    lines += ["J = h.sum()", "J.backward()"]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    tree, todo = [pid], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            tree.append(child)
            todo.append(child)
    return tree


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; zeros if it is gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup[1:] if line.split()[1].isdigit()}
    return values.get("Rss", 0), values.get("Pss", 0)


class MemorySampler(threading.Thread):
    """Samples the whole process tree every 50 ms and keeps the peaks."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_rss = self.peak_pss = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            totals = [memory_kib(pid) for pid in process_tree(self.pid)]
            self.peak_rss = max(self.peak_rss, sum(rss for rss, _ in totals))
            self.peak_pss = max(self.peak_pss, sum(pss for _, pss in totals))
            time.sleep(0.05)


INTERPRETER_COMMIT = "5bf9468"  # the last commit that ran programs with the allowlisted interpreter


def start_server(workers: int | None, cache_mb: int = 0, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    # Request lines cost the server a little time; the cache is off unless asked for, so every
    # request really runs in a worker.
    # The time limit and queue wait are raised so that a loaded machine slows the 1,000-op program
    # down instead of turning it into timeouts and 503s (the defaults are 5 s and 10 s).
    # One address sends every request here, so the per-client share of workers is lifted.
    env = {**os.environ, "GRAFO_LOG_LEVEL": "warning", "GRAFO_RESULT_CACHE_MB": str(cache_mb),
           "GRAFO_TIME_LIMIT_S": "30", "GRAFO_QUEUE_WAIT_S": "120", "GRAFO_MAX_RUNS_PER_CLIENT": "64",
           "PYTHONPATH": str(root)}
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).json()["pool"]["alive"] >= 1:
                return server, url
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def tree_cpu_s(pid: int) -> float:
    """CPU time (user + system) used so far by the server and every process below it, including
    the single-use workers that have already exited (their parent's cutime and cstime)."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def with_cpu(server_pid: int, run) -> dict:
    """Run a measurement and add the server side's CPU per request: a figure that, unlike
    wall-clock throughput, does not depend on what else the machine is doing."""
    before = tree_cpu_s(server_pid)
    result = run()
    spent = tree_cpu_s(server_pid) - before
    answered = result["requests"] + result.get("non_200", 0)
    result["server_cpu_ms_per_request"] = round(spent * 1000 / max(1, answered), 2)
    cores = os.cpu_count() or 1
    result["cpu_bound_traces_per_s"] = round(cores * 1000 / max(0.01, result["server_cpu_ms_per_request"]), 1)
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def sequential(url: str, source: str, count: int) -> dict:
    times = []
    with httpx.Client(timeout=60) as client:
        for _ in range(3):  # warm both workers and the connection
            client.post(url + "/api/trace", json={"source": source}).raise_for_status()
        for _ in range(count):
            started = time.perf_counter()
            response = client.post(url + "/api/trace", json={"source": source})
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return {
        "requests": count,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "bytes": len(response.content),
    }


async def concurrent(url: str, source: str, clients: int, total: int) -> dict:
    done = 0
    failures = 0
    statuses: dict[str, int] = {}

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal done, failures
        while done + failures < total:
            response = await client.post(url + "/api/trace", json={"source": source})
            if response.status_code == 200:
                done += 1
            else:
                failures += 1
                kind = response.json().get("error", {}).get("kind", "?") if response.content else "?"
                label = f"{response.status_code} {kind}"
                statuses[label] = statuses.get(label, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": done, "non_200": failures, "non_200_kinds": statuses,
            "traces_per_s": round(done / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--requests", type=int, default=300, help="sequential lesson requests")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--baseline", default=INTERPRETER_COMMIT, help="git commit to compare the lesson with, or none")
    args = parser.parse_args()

    load = os.getloadavg()
    before = measure_baseline(args) if args.baseline != "none" else None
    results = measure(args)
    if before is not None:
        results["lesson_before"] = before
    results["load"] = load
    cached = measure_cached(args)
    results["lesson_cached"] = cached
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"machine: {results['machine']}, load average before/after: {results['load']} / {os.getloadavg()}")
    for name in ("lesson", "1000_ops", "lesson_cached"):
        seq, conc = results[name]["sequential"], results[name]["concurrent"]
        print(f"{name:13s} sequential p50 {seq['p50_ms']:8.2f} ms  p95 {seq['p95_ms']:8.2f} ms  "
              f"p99 {seq['p99_ms']:8.2f} ms  ({seq['requests']} requests, {seq['bytes']} bytes each)")
        print(f"{'':13s} 8 clients  {conc['traces_per_s']:8.1f} traces/s  ({conc['requests']} ok, {conc['non_200']} not 200 {conc['non_200_kinds'] or ''})")
        print(f"{'':13s} server CPU {conc['server_cpu_ms_per_request']:8.2f} ms/request (server + workers): "
              f"at most {conc['cpu_bound_traces_per_s']} traces/s on {os.cpu_count()} idle cores")
    if before is not None:
        seq, now = before["sequential"], results["lesson"]["sequential"]
        print(f"lesson before ({args.baseline}, allowlisted interpreter): p50 {seq['p50_ms']:.2f} ms  p95 {seq['p95_ms']:.2f} ms;"
              f" now (sandboxed real Python): p50 {now['p50_ms']:.2f} ms  p95 {now['p95_ms']:.2f} ms"
              f"  ({now['p50_ms'] / seq['p50_ms']:.2f}x at p50)")
    sandbox = results["machine"].get("sandbox_enter_ms")
    if sandbox is not None:
        print(f"entering the sandbox: {sandbox} ms per worker (median; paid before the request arrives)")
    memory = results["peak_memory_mib"]
    print(f"peak memory, server + forkserver + workers: RSS sum {memory['rss_sum']} MiB, PSS sum {memory['pss_sum']} MiB")
    print("lesson_cached: the same lesson with the result cache on (GRAFO_RESULT_CACHE_MB=64): "
          "repeated requests are answered without a worker")


def measure_cached(args) -> dict:
    server, url = start_server(args.workers, cache_mb=64)
    try:
        return {
            "sequential": sequential(url, LESSON, args.requests),
            "concurrent": with_cpu(server.pid, lambda: asyncio.run(concurrent(url, LESSON, 8, args.requests * 2))),
        }
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def measure_baseline(args) -> dict:
    """The lesson, cache off, served by the baseline commit from a temporary worktree."""
    worktree = Path(tempfile.mkdtemp(prefix="grafo-baseline-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.baseline], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server, url = start_server(args.workers, root=worktree)
        try:
            return {"sequential": sequential(url, LESSON, args.requests)}
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
        shutil.rmtree(worktree.parent, ignore_errors=True)


def measure(args) -> dict:
    """Cache off: every request runs the engine in a worker."""
    server, url = start_server(args.workers)
    sampler = MemorySampler(server.pid)
    sampler.start()
    try:
        health = httpx.get(url + "/api/health").json()
        big = thousand_op_program()
        results = {
            "machine": {"cores": os.cpu_count(), "workers": health["pool"]["workers"], "torch": health["torch"],
                        "sandbox_enter_ms": health.get("sandbox", {}).get("enter_ms")},
            "lesson": {
                "sequential": sequential(url, LESSON, args.requests),
                "concurrent": with_cpu(server.pid, lambda: asyncio.run(concurrent(url, LESSON, 8, args.requests * 2))),
            },
            "1000_ops": {
                "sequential": sequential(url, big, max(10, args.requests // 15)),
                "concurrent": with_cpu(server.pid, lambda: asyncio.run(concurrent(url, big, 8, max(16, args.requests // 10)))),
            },
        }
    finally:
        sampler.stop_event.set()
        sampler.join()
        server.send_signal(signal.SIGINT)
        server.wait(30)
    results["peak_memory_mib"] = {"rss_sum": round(sampler.peak_rss / 1024), "pss_sum": round(sampler.peak_pss / 1024)}
    return results


if __name__ == "__main__":
    main()

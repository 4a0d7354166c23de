"""A 2,000-iteration training loop end to end, beside the same program under plain torch, in one run.

The program is the PyTorch tutorial's polynomial fit with autograd at its real length
(`tests/programs/training.py`: `polynomial_autograd`, 2,000 backward passes and manual SGD updates).
Grafo's figure is the HTTP round trip of POST /api/trace against a real server (cache off): the
program runs twice when its last pass must be recorded in full, inside the sandbox, and every pass is
summarised. Plain torch's figures are the same program in a fresh `python` process, whole (with
torch's import) and the program alone.

    .venv/bin/python bench/training_loop.py [--repeat N] [--program NAME]

Goals on 2 cores: under 3 s end to end, under 2 MB of trace.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_latency import start_server  # noqa: E402
from tests.programs.training import LOOPS, loop_source  # noqa: E402

TIMED_PROGRAM = """\
import sys, time
started = time.perf_counter()
import torch
imported = time.perf_counter()
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), {"__name__": "__main__"})
done = time.perf_counter()
print("__timing__", imported - started, done - imported, file=sys.stderr)
"""


def plain_run(source: str) -> dict:
    """The program under plain Python and torch, one thread like Grafo's workers."""
    program = Path(tempfile.mkdtemp(prefix="grafo-bench-")) / "program.py"
    program.write_text(source, encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", TIMED_PROGRAM, str(program)], capture_output=True, text=True,
                          env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                          check=True)
    whole = time.perf_counter() - started
    line = next(line for line in done.stderr.splitlines() if line.startswith("__timing__"))
    _, import_s, program_s = line.split()
    return {"process_s": whole, "import_s": float(import_s), "program_s": float(program_s)}


def grafo_run(url: str, source: str) -> dict:
    started = time.perf_counter()
    response = httpx.post(url + "/api/trace", json={"source": source}, timeout=120)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    trace = response.json()
    return {"s": elapsed, "bytes": len(response.content), "passes": trace["stats"]["backward_passes"],
            "detailed": [p["index"] for p in trace["passes"]], "runs": trace["stats"]["runs"],
            "engine_ms": trace["stats"]["elapsed_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--program", choices=sorted(LOOPS), default="polynomial_autograd")
    args = parser.parse_args()
    source = loop_source(args.program)

    plain = [plain_run(source) for _ in range(args.repeat)]
    server, url = start_server(workers=2)
    try:
        grafo_run(url, source)  # warm the connection
        grafo = [grafo_run(url, source) for _ in range(args.repeat)]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)

    median = statistics.median
    g_s, g_bytes = median(r["s"] for r in grafo), grafo[-1]["bytes"]
    p_process, p_program = median(r["process_s"] for r in plain), median(r["program_s"] for r in plain)
    print(f"program: {args.program} ({grafo[-1]['passes']} backward passes; "
          f"in full: {grafo[-1]['detailed']}; runs: {grafo[-1]['runs']})")
    print(f"Grafo, HTTP round trip (sandboxed worker, cache off): median {g_s:.2f} s over {args.repeat}, "
          f"trace {g_bytes / 1e6:.2f} MB (engine {median(r['engine_ms'] for r in grafo) / 1000:.2f} s)")
    print(f"plain torch, fresh process: median {p_process:.2f} s (import {median(r['import_s'] for r in plain):.2f} s, "
          f"the program itself {p_program:.2f} s)")
    print(f"ratio: {g_s / p_process:.2f}x the plain process, {g_s / p_program:.1f}x the program alone; "
          f"goals: under 3 s ({'met' if g_s < 3 else 'missed'}), under 2 MB ({'met' if g_bytes < 2e6 else 'missed'})")
    print(json.dumps({"grafo": grafo, "plain": plain}))


if __name__ == "__main__":
    main()

"""Browser rendering benchmark (not a test): time from API response to painted graph, in headless Chromium.

    .venv/bin/python bench/browser_render.py            # starts `python -m app serve` on a free port
    .venv/bin/python bench/browser_render.py --url http://127.0.0.1:8000

For the lesson (traced by the real API) and for generated traces of 100, 500, 1,000 and 2,000 nodes
(handed to the page as if the API had just answered), it reports:
  - layout: dagre in the Web Worker (ms, measured inside the worker)
  - paint:  API response -> first paint of the graph (two animation frames after the part in view is
            built), ms; small graphs are drawn whole at once, large ones in slices, nearest the view first
  - all:    API response -> every node and edge drawn and painted, ms
  - longest main-thread stall from the API response until everything is drawn (the longest gap of a
    16 ms probe timer; small = page stays responsive). The time the page spends receiving the trace
    (JSON parsing) comes before the response mark and is not counted.
  - longest task: the longest main-thread task meanwhile (Long Tasks API: script, style, layout, paint)
  - pan/zoom: frames per second while the mouse wheel zooms and drags the graph for ~1.5 s
Uses Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


# Programs of three shapes, at any number of ops (recorded tensor operations; within a few of it):
# a chain, a chain where every step also reads one shared weight, and a small MLP trained with SGD.
SHAPES = ("chain", "shared", "mlp")


def program(shape: str, ops: int) -> str:
    """A PyTorch program of `shape` that records about `ops` operations (the trace's stats.ops)."""
    if shape == "chain":  # 1 + 2 per iteration + 1
        return ("import torch\nh = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)\n"
                f"for i in range({max((ops - 2) // 2, 1)}):\n    h = h * 1.01 + 0.01\nJ = h.sum()\nJ.backward()\n")
    if shape == "shared":  # 2 + 3 per iteration + 1
        return ("import torch\na = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)\n"
                "b = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)\n"
                f"for i in range({max((ops - 3) // 3, 1)}):\n    a = (a * 1.01 + b) * 0.99\nJ = a.sum()\nJ.backward()\n")
    if shape == "mlp":  # 2 + 14 per step (5 forward, 3 loss, 6 parameter updates)
        return ("import torch\ntorch.manual_seed(0)\n"
                "net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(),\n"
                "                          torch.nn.Linear(8, 1))\n"
                "opt = torch.optim.SGD(net.parameters(), lr=0.05)\nx = torch.randn(16, 4)\ny = torch.randn(16, 1)\n"
                f"for step in range({max((ops - 2) // 14, 1)}):\n    opt.zero_grad()\n    loss = ((net(x) - y) ** 2).mean()\n"
                "    loss.backward()\n    opt.step()\n")
    raise ValueError(shape)


def tv(values):
    return {"shape": [len(values)], "dtype": "float32", "numel": len(values), "data": values,
            "min": min(values), "max": max(values), "mean": sum(values) / len(values)}


def generated_trace(total_nodes: int, seed: int = 0) -> dict:
    """An autograd-like DAG: a chain of ops (like layers) where each op takes the latest tensor, and
    binary ops take a fresh parameter or constant leaf (weights, biases, targets entering the graph) or
    a tensor a few steps back (a skip connection), ending in a scalar root."""
    rng = random.Random(seed)
    nodes, edges, forward, backward = [], [], [], []
    tensors = []

    def leaf():
        i = len(nodes)
        role = "param" if rng.random() < 0.7 else "constant"
        name = f"w{i}" if role == "param" else f"c{i}"
        nodes.append({"id": f"t{i}", "kind": "tensor", "name": name, "names": [name], "label": name, "role": role,
                      "value": tv([round(rng.random(), 3) for _ in range(4)]),
                      "grad": tv([round(rng.uniform(-1, 1), 3) for _ in range(4)]) if role == "param" else None,
                      "requires_grad": role == "param", "is_leaf": True, "version": 0,
                      "span": {"line": 1, "col": 1, "end_line": 1, "end_col": 5}, "producer": None})
        return f"t{i}"

    tensors.append(leaf())
    ops = [("mul", "×", "MulBackward0"), ("add", "+", "AddBackward0"), ("sub", "−", "SubBackward0"),
           ("tanh", "tanh", "TanhBackward0"), ("pow", "pow 2", "PowBackward0"), ("matmul", "@", "MmBackward0")]
    while len(nodes) < total_nodes - 4:
        op, label, grad_fn = rng.choice(ops)
        inputs = [tensors[-1]]  # every tensor feeds the next op, so the root is the only sink
        if op not in ("tanh", "pow"):
            other = leaf() if rng.random() < 0.6 or len(tensors) < 5 else rng.choice(tensors[-5:-1])
            inputs.append(other)
        oid, tid = f"o{len(nodes)}", f"t{len(nodes) + 1}"
        line = len(forward) + 2
        span = {"line": line, "col": 5, "end_line": line, "end_col": 20}
        nodes.append({"id": oid, "kind": "op", "op": op, "label": label, "params": {}, "grad_fn": grad_fn,
                      "internal_grad_fns": [], "saved": [], "inplace": False, "inputs": inputs, "outputs": [tid],
                      "span": span, "source": f"{op}(...)"})
        name = f"h{len(forward)}"
        nodes.append({"id": tid, "kind": "tensor", "name": name, "names": [name], "label": name, "role": "intermediate",
                      "value": tv([round(rng.uniform(-3, 3), 3) for _ in range(4)]),
                      "grad": tv([round(rng.uniform(-1, 1), 3) for _ in range(4)]), "requires_grad": True,
                      "is_leaf": False, "version": 0, "span": span, "producer": oid})
        edges += [{"source": t, "target": oid, "kind": "input", "index": k} for k, t in enumerate(inputs)]
        edges.append({"source": oid, "target": tid, "kind": "output", "index": 0})
        forward.append({"index": len(forward), "op": oid})
        tensors.append(tid)
    # The root: the sum of the last tensor.
    oid, rid = f"o{len(nodes)}", f"t{len(nodes) + 1}"
    nodes.append({"id": oid, "kind": "op", "op": "sum", "label": "sum", "params": {}, "grad_fn": "SumBackward0",
                  "internal_grad_fns": [], "saved": [], "inplace": False, "inputs": [tensors[-1]], "outputs": [rid],
                  "span": None, "source": "sum"})
    nodes.append({"id": rid, "kind": "tensor", "name": "J", "names": ["J"], "label": "J", "role": "root",
                  "value": {"shape": [], "dtype": "float32", "numel": 1, "data": 1.0, "min": 1.0, "max": 1.0, "mean": 1.0},
                  "grad": {"shape": [], "dtype": "float32", "numel": 1, "data": 1.0, "min": 1.0, "max": 1.0, "mean": 1.0},
                  "requires_grad": True, "is_leaf": False, "version": 0, "span": None, "producer": oid})
    edges += [{"source": tensors[-1], "target": oid, "kind": "input", "index": 0},
              {"source": oid, "target": rid, "kind": "output", "index": 0}]
    forward.append({"index": len(forward), "op": oid})
    by_id = {n["id"]: n for n in nodes}
    for k, step in enumerate(reversed(forward)):
        op = by_id[step["op"]]
        backward.append({"index": k, "pass_index": 0, "node": op["id"], "grad_fn": op["grad_fn"], "kind": "op",
                         "grad_in": [by_id[op["outputs"][0]]["grad"]], "grad_in_targets": op["outputs"],
                         "grads_out": [{"target": t, "value": by_id[t]["grad"]} for t in op["inputs"]],
                         "accumulated": None})
    return {"version": 1, "nodes": nodes, "edges": edges, "forward": forward, "backward": backward,
            "passes": [{"index": 0, "root": rid, "seed": by_id[rid]["grad"], "implicit": True, "retain_graph": False,
                        "span": None, "steps": list(range(len(backward)))}],
            "gradcheck": None, "output": [], "warnings": [],
            "stats": {"statements": 0, "ops": len(forward), "tensors": len(nodes) - len(forward), "backward_passes": 1,
                      "backward_steps": len(backward), "elapsed_ms": 0}}


PROBE = """() => {
  if (!window.__longTasks) {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]); })
      .observe({type: 'longtask'});
  }
  window.__longTasks.length = 0;
  window.__probe = {gaps: [], last: performance.now()};
  clearInterval(window.__probeTimer);
  window.__probeTimer = setInterval(() => {
    const now = performance.now();
    window.__probe.gaps.push([window.__probe.last, now]);
    window.__probe.last = now;
  }, 16);
}"""

# Gaps of the probe timer, counted from the API response mark to the moment everything was drawn.
RESULT = """() => { const g = window.__grafo, from = g.marks.response, to = g.marks.complete;
  const gaps = window.__probe.gaps.map(([a, b]) => Math.min(b, to) - Math.max(a, from)).filter((d) => d > 0);
  const tasks = window.__longTasks.filter(([s, d]) => s + d > from && s < to).map(([s, d]) => d);
  return { paint: g.marks.painted - from, all: to - from, layout: g.layoutMs, stall: Math.max(0, ...gaps),
    task: Math.max(0, ...tasks),
    nodes: document.querySelectorAll('g.node').length }; }"""

WAIT = "(n) => window.__grafo.painted > n[0] && (window.__grafo.complete ?? 0) > n[1]"
COUNTS = "[window.__grafo.painted, window.__grafo.complete ?? 0]"


def measure_fps(page, seconds=1.5):
    box = page.locator("#graph").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate("""() => { window.__frames = 0; const tick = () => { window.__frames++;
      if (window.__counting) requestAnimationFrame(tick); }; window.__counting = true; requestAnimationFrame(tick); }""")
    start = time.perf_counter()
    page.mouse.move(cx, cy)
    i = 0
    while time.perf_counter() - start < seconds:
        if i % 20 < 10:
            page.mouse.wheel(0, -60 if (i // 20) % 2 == 0 else 60)
        else:
            page.mouse.down()
            page.mouse.move(cx + (15 if i % 2 else -15), cy + 8)
            page.mouse.up()
        i += 1
    frames = page.evaluate("() => { window.__counting = false; return window.__frames; }")
    return frames / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Grafo server (default: start one)")
    parser.add_argument("--sizes", default="100,500,1000,2000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    proc = None
    url = args.url
    if not url:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/api/examples", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
    from playwright.sync_api import sync_playwright

    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url + "/")
            page.wait_for_function("window.__grafo && window.__grafo.painted > 0", timeout=60_000)
            # The lesson, through the real API (Trace button).
            samples = []
            for _ in range(args.repeat):
                n = page.evaluate(COUNTS)
                page.evaluate(PROBE)
                page.click("#btn-trace")
                page.wait_for_function(WAIT, arg=n, timeout=60_000)
                page.wait_for_timeout(100)
                samples.append(page.evaluate(RESULT))
            fps = measure_fps(page)
            rows.append(("lesson", samples, fps))
            for size in [int(s) for s in args.sizes.split(",")]:
                trace = generated_trace(size)
                samples = []
                for _ in range(args.repeat):
                    # Hand the trace over first (as JSON text), then parse and load it in one page task,
                    # as the page does with an API answer; the clock starts after parsing, as it does there.
                    page.evaluate("(t) => { window.__benchTrace = t; }", json.dumps(trace))
                    n = page.evaluate(COUNTS)
                    page.evaluate(PROBE)
                    page.evaluate("() => { setTimeout(() => window.__grafoLoadTrace(JSON.parse(window.__benchTrace)), 0); }")
                    page.wait_for_function(WAIT, arg=n, timeout=120_000)
                    page.wait_for_timeout(100)  # long-task entries arrive asynchronously
                    samples.append(page.evaluate(RESULT))
                fps = measure_fps(page)
                rows.append((f"{len(trace['nodes'])} nodes", samples, fps))
            browser.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=20)
    def median(samples, key):
        return sorted(s[key] for s in samples)[len(samples) // 2]

    print(f"{'graph':>12} {'drawn':>6} {'layout ms':>10} {'paint ms':>9} {'all ms':>7} {'max stall ms':>13} "
          f"{'longest task':>13} {'pan/zoom fps':>13}")
    for name, samples, fps in rows:
        print(f"{name:>12} {samples[0]['nodes']:>6} {median(samples, 'layout'):>10.0f} {median(samples, 'paint'):>9.0f} "
              f"{median(samples, 'all'):>7.0f} {max(s['stall'] for s in samples):>13.0f} "
              f"{max(s['task'] for s in samples):>13.0f} {fps:>13.1f}")
    print("medians of runs; layout = dagre inside the worker; paint = API response -> first paint;")
    print("all = API response -> every node drawn and painted; max stall = longest gap of a 16 ms timer on")
    print("the main thread from the API response until everything is drawn (the page's responsiveness; it also")
    print("grows when other processes starve the main thread of CPU); longest task = the longest main-thread task")
    print("(Long Tasks API, over 50 ms, 0 if none) in that time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

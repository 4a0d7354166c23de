"""Browser rendering benchmark (not a test): from the API's answer to a painted graph, in headless Chromium.

    .venv/bin/python bench/browser_render.py                 # starts `python -m app serve` with room for 10,000 ops
    .venv/bin/python bench/browser_render.py --url http://127.0.0.1:8000 --sizes 1000,3000

For the lesson (through the real API, Trace button) and for three generated programs (`program()`: a
chain, a chain whose every step also reads one shared weight, a small MLP trained with SGD) at 1,000,
3,000 and 10,000 recorded ops (traced once by the server, gradient check off, then handed to the page
as if the API had just answered), it reports medians of `--repeat` runs:
  - paint:    API response -> first paint of the graph (grouped: the default view), ms
  - complete: API response -> the page idle again with the player ready for every step, ms
  - task:     the longest main-thread task in that time (Long Tasks API; 0 if none over 50 ms). The
              page's own parse of the answer comes before the response mark and is not counted.
  - stall:    the longest gap of a 16 ms timer in that time (what a user would feel)
  - fps:      frames per second while the mouse wheel zooms and drags the default view for ~1.5 s
  - open all: every group opened (the canvas draws past 400 nodes): ms to paint (or the time budget's
              coarser fallback), nodes drawn, renderer, and pan/zoom fps there
  - memory:   the tab's JavaScript heap after a garbage collection, and the renderer process's RSS
Uses Debian's Chromium at /usr/bin/chromium. Figures vary with the machine's load: rerun for your own.
"""

from __future__ import annotations

import argparse
import json
import os
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

# From the API response mark to the moment everything was done.
RESULT = """() => { const g = window.__grafo, from = g.marks.response, to = g.marks.complete;
  const gaps = window.__probe.gaps.map(([a, b]) => Math.min(b, to) - Math.max(a, from)).filter((d) => d > 0);
  const tasks = window.__longTasks.filter(([s, d]) => s + d > from && s < to).map(([s, d]) => d);
  const scene = g.pane.scene();
  return { paint: g.marks.painted - from, complete: to - from, stall: Math.max(0, ...gaps), task: Math.max(0, ...tasks),
    nodes: scene.nodes.filter((n) => n.kind !== 'port').length, frames: scene.frames.length, renderer: g.pane.renderer() }; }"""

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


def renderer_rss_mb(root_pid: int) -> float:
    """RSS of the Chromium renderer processes below `root_pid` (this benchmark's own browser only)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total = 0
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def memory(page, cdp) -> tuple[float, float]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics.get("JSHeapUsedSize", 0) / 2**20, renderer_rss_mb(os.getpid())


def trace_text(url: str, source: str) -> tuple[str, float]:
    request = urllib.request.Request(url + "/api/trace", data=json.dumps({"source": source, "gradcheck": False}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=900) as response:
        return response.read().decode(), time.perf_counter() - started


def median(samples, key):
    return sorted(s[key] for s in samples)[len(samples) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Grafo server (default: start one with room for 10,000 ops)")
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    proc = None
    url = args.url
    if not url:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "GRAFO_TIME_LIMIT_S": "300"}
        proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
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
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(url + "/")
            page.wait_for_function("window.__grafo && window.__grafo.painted > 0", timeout=60_000)
            samples = []
            for _ in range(args.repeat):
                n = page.evaluate(COUNTS)
                page.evaluate(PROBE)
                page.click("#btn-trace")
                page.wait_for_function(WAIT, arg=n, timeout=60_000)
                page.wait_for_timeout(100)
                samples.append(page.evaluate(RESULT))
            rows.append(("lesson", "", samples, measure_fps(page), None, memory(page, cdp)))
            for size in [int(s) for s in args.sizes.split(",")]:
                for shape in args.shapes.split(","):
                    text, server_s = trace_text(url, program(shape, size))
                    stats = json.loads(text)["stats"]
                    # A training loop keeps its detailed passes' ops only: say how many ran.
                    what = f"{stats['ops']} ops" if shape != "mlp" else f"{stats['backward_passes']} passes, {stats['ops']} ops kept"
                    samples = []
                    for _ in range(args.repeat):
                        # Hand the answer over as text, parse it in one task and load it in the next, as the
                        # page does with an API answer; the clock starts after the parse, as it does there.
                        page.evaluate("(t) => { window.__benchTrace = t; }", text)
                        n = page.evaluate(COUNTS)
                        page.evaluate(PROBE)
                        page.evaluate("""() => { setTimeout(() => { const trace = JSON.parse(window.__benchTrace);
                          setTimeout(() => window.__grafoLoadTrace(trace), 0); }, 0); }""")
                        page.wait_for_function(WAIT, arg=n, timeout=300_000)
                        page.wait_for_timeout(150)  # long-task entries arrive asynchronously
                        samples.append(page.evaluate(RESULT))
                    fps = measure_fps(page)
                    mem = memory(page, cdp)
                    # Every group open: the largest scene the page draws for this trace.
                    n = page.evaluate(COUNTS)
                    started = page.evaluate("performance.now()")
                    page.click("#btn-expand-all")
                    page.wait_for_function(WAIT, arg=n, timeout=300_000)
                    opened = page.evaluate(f"""() => ({{ ms: window.__grafo.marks.painted - {started},
                      nodes: window.__grafo.pane.scene().nodes.filter((n) => n.kind !== 'port').length,
                      renderer: window.__grafo.pane.renderer(), coarser: /innermost/.test(document.getElementById('status').textContent) }})""")
                    page.evaluate("window.__grafo.pane.fit({ whole: true, animate: false })")
                    opened["fps"] = measure_fps(page)
                    rows.append((shape, f"{size}: {what} ({len(text) / 2**20:.1f} MB, server {server_s:.0f} s)", samples, fps, opened, mem))
            browser.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=20)

    print(f"{'graph':>7} {'program: trace':>44} {'drawn':>9} {'paint':>6} {'complete':>8} {'task':>5} {'stall':>5} {'fps':>4} "
          f"{'open all: ms':>12} {'nodes':>6} {'renderer':>8} {'fps':>4} {'heap MB':>7} {'RSS MB':>6}")
    for name, what, samples, fps, opened, (heap, rss) in rows:
        s0 = samples[0]
        drawn = f"{s0['nodes']}+{s0['frames']}f"
        open_cols = (f"{opened['ms']:>12.0f}{'*' if opened['coarser'] else ' '}{opened['nodes']:>6} {opened['renderer']:>8} "
                     f"{opened['fps']:>4.0f}") if opened else f"{'':>12} {'':>6} {'':>8} {'':>4}"
        print(f"{name:>7} {what:>44} {drawn:>9} {median(samples, 'paint'):>6.0f} {median(samples, 'complete'):>8.0f} "
              f"{max(s['task'] for s in samples):>5.0f} {max(s['stall'] for s in samples):>5.0f} {fps:>4.0f} "
              f"{open_cols} {heap:>7.0f} {rss:>6.0f}")
    print("paint / complete: API response -> first paint / page idle with the player ready (ms, medians);")
    print("task: longest main-thread task (Long Tasks API, 0 if none over 50 ms); stall: longest gap of a 16 ms timer;")
    print("fps: pan/zoom of the default (grouped) view; open all: every group opened (* = the time budget closed")
    print("the innermost again), nodes drawn, renderer, pan/zoom fps of the whole scene fitted in view;")
    print("heap: JavaScript heap after GC; RSS: the renderer process. drawn: nodes + frames of the default view.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

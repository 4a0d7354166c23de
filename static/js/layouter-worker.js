// Web Worker: lays out groups of the graph, one layered layout each, with dagre (longest-path ranking,
// a cheaper crossing reduction above 300 nodes), children first so that an expanded group's box has its
// size before its parent is laid out. A new trace terminates the worker (layouter.js): nothing here
// needs to notice a cancel.
// In:  {id, jobs: [{gid, sizes: Float32Array [w,h,...], kinds: Uint8Array (0 node, 1 in-port, 2 out-port,
//        3 expanded group: its size comes from job `subs[i]` of this batch or `known`),
//        subs: [gid|null, ...], edges: Int32Array [s,t,...], rankdir: TB|LR|auto}],
//       known: {gid: [w, h]}, options: {viewW, viewH, readable (the smallest zoom of a first view,
//       camera.js), nodesep, ranksep, lr: {nodesep, ranksep} (left to right), pad, header,
//       minWidths: {gid: w}, delayMs: a pause after each group, for tests of a long layout}}
// Out: one message per group {id, type: "group", gid, xy, points, offsets, sizes, width, height, rankdir, ms}
//      (xy: node centres inside the group's content box; width/height: the group's whole box), then
//      {id, type: "done", ms}. Typed arrays travel as transferables.
import dagre from "../vendor/dagre/dagre.esm.js";
import { fitZoom } from "./camera.js";

// dagre's own longest-path ranker is recursive and overflows a worker's stack on graphs a thousand
// ranks deep; this is the same ranking (every node as low as its successors allow, sinks at 0),
// computed iteratively in reverse topological order. dagre calls it with its internal graph.
// A group's in-ports then go to the top rank (what enters a group enters at its top border; out-ports,
// sinks, are at the bottom already).
let inPorts = null;
function longestPath(g) {
  const pending = new Map();
  const ready = [];
  for (const v of g.nodes()) {
    const out = g.outEdges(v).length;
    pending.set(v, out);
    if (out === 0) ready.push(v);
  }
  while (ready.length) {
    const v = ready.pop();
    let rank = Infinity;
    for (const e of g.outEdges(v)) rank = Math.min(rank, g.node(e.w).rank - g.edge(e).minlen);
    g.node(v).rank = rank === Infinity ? 0 : rank;
    for (const e of g.inEdges(v)) {
      const left = pending.get(e.v) - 1;
      pending.set(e.v, left);
      if (left === 0) ready.push(e.v);
    }
  }
  if (inPorts?.size) {
    let top = 0;
    for (const v of g.nodes()) top = Math.min(top, g.node(v).rank);
    for (const v of g.nodes()) if (inPorts.has(v)) g.node(v).rank = Math.min(top - 1, g.node(v).rank);
  }
}

// Crossing reduction for large graphs. dagre's own ordering builds a layer graph per rank and sweeps
// until four rounds bring no gain: about 1 s for 1,000 nodes, and its first ordering is a recursive
// DFS. This one does the same kind of work more cheaply: an iterative DFS for the first order, then
// alternating down/up weighted-barycentre sweeps, keeping the order with the fewest crossings.
// dagre calls it (as `customOrder`) with its internal graph, dummy nodes included.
function fastOrder(g) {
  const names = g.nodes();
  const n = names.length;
  const idx = new Map(names.map((v, i) => [v, i]));
  const rank = new Int32Array(n);
  let maxRank = 0;
  names.forEach((v, i) => { rank[i] = g.node(v).rank; if (rank[i] > maxRank) maxRank = rank[i]; });
  const preds = Array.from({ length: n }, () => []);
  const succs = Array.from({ length: n }, () => []);
  for (const e of g.edges()) {
    const [a, b, w] = [idx.get(e.v), idx.get(e.w), g.edge(e).weight ?? 1];
    succs[a].push(b, w);
    preds[b].push(a, w);
  }
  const layers = Array.from({ length: maxRank + 1 }, () => []);
  const seen = new Uint8Array(n);
  const starts = [...names.keys()].sort((a, b) => rank[a] - rank[b]);
  const stack = [];
  for (const s of starts) {
    stack.push(s);
    while (stack.length) {
      const v = stack.pop();
      if (seen[v]) continue;
      seen[v] = 1;
      layers[rank[v]].push(v);
      const out = succs[v];
      for (let k = out.length - 2; k >= 0; k -= 2) if (!seen[out[k]]) stack.push(out[k]);
    }
  }
  const pos = new Float64Array(n);
  for (const layer of layers) layer.forEach((v, i) => { pos[v] = i; });
  let best = pos.slice();
  let bestCross = crossings(layers, succs, pos);
  const key = new Float64Array(n);
  const free = new Uint8Array(n);
  for (let iter = 0, stale = 0; iter < 16 && stale < 4 && bestCross > 0; iter++) {
    const down = iter % 2 === 1;
    const biasRight = iter % 4 >= 2;
    for (let k = 1; k <= maxRank; k++) {
      const layer = layers[down ? k : maxRank - k];
      // Nodes with neighbours on the fixed side move to their barycentre; the others keep their slots.
      const movable = [];
      for (const v of layer) {
        const nb = down ? preds[v] : succs[v];
        let sum = 0;
        let weight = 0;
        for (let j = 0; j < nb.length; j += 2) { sum += pos[nb[j]] * nb[j + 1]; weight += nb[j + 1]; }
        free[v] = weight ? 1 : 0;
        if (weight) { key[v] = sum / weight; movable.push(v); }
      }
      movable.sort((a, b) => key[a] - key[b] || (biasRight ? pos[b] - pos[a] : pos[a] - pos[b]));
      let m = 0;
      for (let i = 0; i < layer.length; i++) if (free[layer[i]]) layer[i] = movable[m++];
      layer.forEach((v, i) => { pos[v] = i; });
    }
    const c = crossings(layers, succs, pos);
    if (c < bestCross) { bestCross = c; best = pos.slice(); stale = 0; } else { if (c === bestCross) best = pos.slice(); stale++; }
  }
  names.forEach((v, i) => { g.node(v).order = best[i]; });
}

/** Edge crossings between adjacent layers (edges sorted by source, inversions of targets, Fenwick tree). */
function crossings(layers, succs, pos) {
  let total = 0;
  for (let r = 0; r + 1 < layers.length; r++) {
    const size = layers[r + 1].length;
    const tree = new Float64Array(size + 1);
    const upper = layers[r].slice().sort((a, b) => pos[a] - pos[b]);
    let seen = 0;
    for (const v of upper) {
      const out = [];
      for (let j = 0; j < succs[v].length; j += 2) out.push(pos[succs[v][j]], succs[v][j + 1]);
      const order = [];
      for (let j = 0; j < out.length; j += 2) order.push(j);
      order.sort((a, b) => out[a] - out[b]);
      for (const j of order) {
        const p = out[j] + 1;
        let le = 0;
        for (let i = p; i > 0; i -= i & -i) le += tree[i];
        total += (seen - le) * out[j + 1];
        for (let i = p; i <= size; i += i & -i) tree[i] += out[j + 1];
        seen += out[j + 1];
      }
    }
  }
  return total;
}

function run(sizes, edges, options, rankdir) {
  const n = sizes.length / 2;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  // Left to right, ranks are columns and their nodes stand one above the other: a row of text needs
  // less room around it than a column of boxes of different widths.
  const sep = rankdir === "LR" ? options.lr ?? options : options;
  g.setGraph({
    rankdir,
    ranker: longestPath,
    acyclicer: "greedy", // the default DFS one is recursive too (and autograd graphs have no cycles)
    nodesep: sep.nodesep ?? 18,
    ranksep: sep.ranksep ?? 26,
    edgesep: options.edgesep ?? 8,
    marginx: options.margin ?? 12,
    marginy: options.margin ?? 12,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < n; i++) g.setNode(String(i), { width: sizes[2 * i], height: sizes[2 * i + 1] });
  for (let j = 0; j < edges.length / 2; j++) g.setEdge(String(edges[2 * j]), String(edges[2 * j + 1]), {}, String(j));
  dagre.layout(g, n > (options.fastOrderAbove ?? 300) ? { customOrder: fastOrder } : {});
  return g;
}

/** Each edge straight from the bottom of its source to the top of its target: {points, offsets}. */
function straightEdges(xy, sizes, edges) {
  const m = edges.length / 2;
  const points = new Float32Array(4 * m);
  const offsets = new Int32Array(m + 1);
  for (let j = 0; j < m; j++) {
    const [a, b] = [edges[2 * j], edges[2 * j + 1]];
    points.set([xy[2 * a], xy[2 * a + 1] + sizes[2 * a + 1] / 2, xy[2 * b], xy[2 * b + 1] - sizes[2 * b + 1] / 2], 4 * j);
    offsets[j] = 2 * j;
  }
  offsets[m] = 2 * m;
  return { points, offsets };
}

// When dagre runs out of stack (its initial ordering is a recursive DFS, and a worker's stack ends
// somewhere past a thousand ranks deep), this simpler layered layout takes over: the same ranks,
// two barycentre sweeps to order each rank, ranks packed and centred, straight edges. Iterative.
function simpleLayout(sizes, edges, options) {
  const n = sizes.length / 2;
  const m = edges.length / 2;
  const outs = Array.from({ length: n }, () => []);
  const ins = Array.from({ length: n }, () => []);
  for (let j = 0; j < m; j++) { outs[edges[2 * j]].push(edges[2 * j + 1]); ins[edges[2 * j + 1]].push(edges[2 * j]); }
  const rank = new Array(n).fill(0);
  const pending = outs.map((o) => o.length);
  const ready = [];
  pending.forEach((p, v) => { if (p === 0) ready.push(v); });
  while (ready.length) {
    const v = ready.pop();
    let r = Infinity;
    for (const w of outs[v]) r = Math.min(r, rank[w] - 1);
    rank[v] = r === Infinity ? 0 : r;
    for (const u of ins[v]) if (--pending[u] === 0) ready.push(u);
  }
  const minRank = Math.min(...rank);
  const layers = [];
  rank.forEach((r, v) => { (layers[r - minRank] ??= []).push(v); });
  const pos = new Float64Array(n);
  for (let sweep = 0; sweep < 2; sweep++) {
    for (const layer of layers) {
      if (!layer) continue;
      const key = (v) => (ins[v].length ? ins[v].reduce((s, u) => s + pos[u], 0) / ins[v].length : pos[v]);
      layer.sort((a, b) => key(a) - key(b));
      layer.forEach((v, i) => { pos[v] = i; });
    }
  }
  const nodesep = options.nodesep ?? 18;
  const ranksep = options.ranksep ?? 26;
  const xy = new Float32Array(2 * n);
  let y = 12;
  let width = 0;
  const rows = layers.map((layer) => {
    layer = layer ?? [];
    const rowW = layer.reduce((s, v) => s + sizes[2 * v], 0) + nodesep * Math.max(layer.length - 1, 0);
    const rowH = layer.reduce((h, v) => Math.max(h, sizes[2 * v + 1]), 0);
    width = Math.max(width, rowW);
    return { layer, rowW, rowH };
  });
  for (const { layer, rowW, rowH } of rows) {
    let x = 12 + (width - rowW) / 2;
    for (const v of layer) {
      xy[2 * v] = x + sizes[2 * v] / 2;
      xy[2 * v + 1] = y + rowH / 2;
      x += sizes[2 * v] + nodesep;
    }
    y += rowH + ranksep;
  }
  return { xy, ...straightEdges(xy, sizes, edges), width: width + 24, height: y - ranksep + 12 };
}

// "auto": for graphs small enough to lay out twice, top to bottom and left to right both, keeping the
// one whose first view (camera.js) is better: the whole graph, readable, at the larger zoom; else the
// larger part of it at the readable zoom. A near tie goes to the pane's own shape: left to right in a
// pane wider than tall, where the ranks of a long chain have room side by side.
function firstView(g, W, H, readable) {
  const { width, height } = g.graph();
  const k = fitZoom(width, height, W, H);
  if (k >= readable) return { whole: true, k };
  return { whole: false, shown: Math.min(1, W / (width * readable)) * Math.min(1, H / (height * readable)) };
}

function chooseDirection(sizes, edges, options) {
  const { viewW: W, viewH: H, readable = 0 } = options;
  const tb = run(sizes, edges, options, "TB");
  const lr = run(sizes, edges, options, "LR");
  const [own, other] = W > H ? [["LR", lr], ["TB", tb]] : [["TB", tb], ["LR", lr]];
  const a = firstView(own[1], W, H, readable);
  const b = firstView(other[1], W, H, readable);
  const otherBetter = b.whole ? !a.whole || b.k > 1.1 * a.k : !a.whole && b.shown > 1.1 * a.shown;
  return otherBetter ? other : own;
}

/**
 * A group whose items form one path (an iteration of a chain, a block of iterations, a module made of
 * one op after another) is a column: no need for dagre, which costs a few milliseconds even for four
 * nodes (thousands of groups when every group is open). Null when the items are not a path.
 */
function pathLayout(sizes, edges, options) {
  const n = sizes.length / 2;
  const m = edges.length / 2;
  if (m !== n - 1 || n < 1) return null;
  const next = new Int32Array(n).fill(-1);
  const indeg = new Uint8Array(n);
  for (let j = 0; j < m; j++) {
    const [a, b] = [edges[2 * j], edges[2 * j + 1]];
    if (next[a] >= 0 || indeg[b] || a === b) return null;
    next[a] = b;
    indeg[b] = 1;
  }
  let start = -1;
  for (let i = 0; i < n; i++) if (!indeg[i]) { if (start >= 0) return null; start = i; }
  const margin = options.margin ?? 12;
  const ranksep = options.ranksep ?? 26;
  let width = 0;
  for (let i = 0; i < n; i++) width = Math.max(width, sizes[2 * i]);
  const xy = new Float32Array(2 * n);
  let y = margin;
  let count = 0;
  for (let v = start; v >= 0; v = next[v], count++) {
    xy[2 * v] = margin + width / 2;
    xy[2 * v + 1] = y + sizes[2 * v + 1] / 2;
    y += sizes[2 * v + 1] + ranksep;
  }
  if (count !== n) return null;
  return { xy, ...straightEdges(xy, sizes, edges), width: width + 2 * margin, height: y - ranksep + margin, rankdir: "TB" };
}

/** One group: {xy, points, offsets, width, height (of its content), rankdir}. */
function layoutOne(sizes, edges, kinds, options, rankdir) {
  const n = sizes.length / 2;
  const m = edges.length / 2;
  if (rankdir === "TB") {
    const path = pathLayout(sizes, edges, options);
    if (path) return path;
  }
  inPorts = new Set();
  for (let i = 0; i < n; i++) if (kinds[i] === 1) inPorts.add(String(i));
  if (n === 0) return { xy: new Float32Array(0), points: new Float32Array(0), offsets: new Int32Array(1), width: 0, height: 0, rankdir: "TB" };
  let g;
  try {
    if (rankdir === "auto" && n <= (options.autoLimit ?? 300) && options.viewW && options.viewH) {
      [rankdir, g] = chooseDirection(sizes, edges, options);
    } else if (rankdir === "auto") {
      rankdir = "TB";
      g = run(sizes, edges, options, rankdir);
    } else {
      g = run(sizes, edges, options, rankdir);
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { ...simpleLayout(sizes, edges, options), rankdir: "TB", fallback: true };
  }
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const node = g.node(String(i));
    xy[2 * i] = node.x;
    xy[2 * i + 1] = node.y;
  }
  const offsets = new Int32Array(m + 1);
  const flat = [];
  for (let j = 0; j < m; j++) {
    offsets[j] = flat.length / 2;
    const e = g.edge({ v: String(edges[2 * j]), w: String(edges[2 * j + 1]), name: String(j) });
    for (const p of e?.points ?? []) flat.push(p.x, p.y);
  }
  offsets[m] = flat.length / 2;
  const graph = g.graph();
  return { xy, points: new Float32Array(flat), offsets, width: graph.width, height: graph.height, rankdir };
}

self.onmessage = (event) => {
  const { id, jobs, known = {}, options = {} } = event.data;
  const started = performance.now();
  const boxes = new Map(Object.entries(known));
  const pad = options.pad ?? 0;
  const header = options.header ?? 0;
  try {
    for (const job of jobs) {
      const t0 = performance.now();
      const { sizes, kinds, subs } = job;
      for (let i = 0; i < kinds.length; i++) {
        if (kinds[i] !== 3) continue;
        const box = boxes.get(subs[i]);
        if (box) { sizes[2 * i] = box[0]; sizes[2 * i + 1] = box[1]; }
      }
      // Inside a group's frame the padding is the frame's; the whole graph keeps a margin.
      const r = layoutOne(sizes, job.edges, kinds, job.gid === options.root ? options : { ...options, margin: 3 }, job.rankdir ?? "TB");
      // The group's box: its content (dagre's margins included), padding, and a header line on top.
      const minW = options.minWidths?.[job.gid] ?? 0;
      const width = job.gid === options.root ? r.width : Math.max(r.width + 2 * pad, minW);
      const height = job.gid === options.root ? r.height : r.height + header + pad;
      boxes.set(job.gid, [width, height]);
      for (const until = performance.now() + (options.delayMs ?? 0); performance.now() < until;) { /* tests only */ }
      const out = { id, type: "group", gid: job.gid, xy: r.xy, points: r.points, offsets: r.offsets, sizes,
        contentW: r.width, contentH: r.height, width, height, rankdir: r.rankdir, ms: performance.now() - t0 };
      self.postMessage(out, [r.xy.buffer, r.points.buffer, r.offsets.buffer, sizes.buffer]);
    }
    self.postMessage({ id, type: "done", ms: performance.now() - started });
  } catch (error) {
    self.postMessage({ id, type: "error", error: String(error && error.stack ? error.stack : error) });
  }
};

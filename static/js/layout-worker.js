// Web Worker: lays out a layered DAG with dagre (longest-path ranking) off the main thread.
// In:  {id, sizes: Float32Array [w0,h0,w1,h1,...], edges: Int32Array [s0,t0,s1,t1,...],
//       options: {rankdir: TB|LR|auto, viewW, viewH, nodesep, ranksep}}
// Out: {id, xy: Float32Array [x0,y0,...] (node centres), points: Float32Array (edge polylines, x,y pairs),
//       offsets: Int32Array (edge i's points are pairs offsets[i]..offsets[i+1]), width, height, rankdir, ms}
// All typed arrays travel as transferables.
import dagre from "../vendor/dagre/dagre.esm.js";

// dagre's own longest-path ranker is recursive and overflows a worker's stack on graphs a thousand
// ranks deep; this is the same ranking (every node as low as its successors allow, sinks at 0),
// computed iteratively in reverse topological order. dagre calls it with its internal graph.
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
  g.setGraph({
    rankdir,
    ranker: longestPath,
    acyclicer: "greedy", // the default DFS one is recursive too (and autograd graphs have no cycles)
    nodesep: options.nodesep ?? 18,
    ranksep: options.ranksep ?? 26,
    edgesep: options.edgesep ?? 8,
    marginx: 12,
    marginy: 12,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < n; i++) g.setNode(String(i), { width: sizes[2 * i], height: sizes[2 * i + 1] });
  for (let j = 0; j < edges.length / 2; j++) g.setEdge(String(edges[2 * j]), String(edges[2 * j + 1]), {}, String(j));
  dagre.layout(g, n > (options.fastOrderAbove ?? 300) ? { customOrder: fastOrder } : {});
  return g;
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
  const points = new Float32Array(m * 4);
  const offsets = new Int32Array(m + 1);
  for (let j = 0; j < m; j++) {
    const [a, b] = [edges[2 * j], edges[2 * j + 1]];
    points.set([xy[2 * a], xy[2 * a + 1] + sizes[2 * a + 1] / 2, xy[2 * b], xy[2 * b + 1] - sizes[2 * b + 1] / 2], 4 * j);
    offsets[j] = 2 * j;
  }
  offsets[m] = 2 * m;
  return { xy, points, offsets, width: width + 24, height: y - ranksep + 12 };
}

// "auto": for graphs small enough to lay out twice, try top-to-bottom and left-to-right and keep the
// one that fits the viewport at the larger scale (the more readable initial view).
function fitScale(g, viewW, viewH) {
  const { width, height } = g.graph();
  return Math.min(viewW / width, viewH / height);
}

self.onmessage = (event) => {
  const { id, sizes, edges, options } = event.data;
  const started = performance.now();
  try {
    const n = sizes.length / 2;
    const m = edges.length / 2;
    let g;
    let rankdir = options.rankdir ?? "TB";
    if (rankdir === "auto") {
      const tb = run(sizes, edges, options, "TB");
      if (n <= (options.autoLimit ?? 300) && options.viewW && options.viewH) {
        const lr = run(sizes, edges, options, "LR");
        const better = fitScale(lr, options.viewW, options.viewH) > 1.08 * fitScale(tb, options.viewW, options.viewH);
        g = better ? lr : tb;
        rankdir = better ? "LR" : "TB";
      } else {
        g = tb;
        rankdir = "TB";
      }
    } else {
      g = run(sizes, edges, options, rankdir);
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
    const points = new Float32Array(flat);
    const graph = g.graph();
    self.postMessage(
      { id, xy, points, offsets, width: graph.width, height: graph.height, rankdir, ms: performance.now() - started },
      [xy.buffer, points.buffer, offsets.buffer],
    );
  } catch (error) {
    if (error instanceof RangeError) {
      const r = simpleLayout(sizes, edges, options);
      self.postMessage({ id, ...r, rankdir: "TB", fallback: true, ms: performance.now() - started },
        [r.xy.buffer, r.points.buffer, r.offsets.buffer]);
      return;
    }
    self.postMessage({ id, error: String(error && error.stack ? error.stack : error) });
  }
};

// Web Worker: lays out a layered DAG with dagre (longest-path ranker) off the main thread.
// In:  {id, sizes: Float32Array [w0,h0,w1,h1,...], edges: Int32Array [s0,t0,s1,t1,...],
//       options: {rankdir: TB|LR|auto, viewW, viewH, nodesep, ranksep}}
// Out: {id, xy: Float32Array [x0,y0,...] (node centres), points: Float32Array (edge polylines, x,y pairs),
//       offsets: Int32Array (edge i's points are pairs offsets[i]..offsets[i+1]), width, height, rankdir, ms}
// All typed arrays travel as transferables.
import dagre from "../vendor/dagre/dagre.esm.js";

function run(sizes, edges, options, rankdir) {
  const n = sizes.length / 2;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir,
    ranker: "longest-path",
    nodesep: options.nodesep ?? 18,
    ranksep: options.ranksep ?? 26,
    edgesep: options.edgesep ?? 8,
    marginx: 12,
    marginy: 12,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < n; i++) g.setNode(String(i), { width: sizes[2 * i], height: sizes[2 * i + 1] });
  for (let j = 0; j < edges.length / 2; j++) g.setEdge(String(edges[2 * j]), String(edges[2 * j + 1]), {}, String(j));
  dagre.layout(g);
  return g;
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
    self.postMessage({ id, error: String(error && error.stack ? error.stack : error) });
  }
};

// The main-thread side of the layout worker: send sizes and edges as typed arrays, get positions back.
// Only the latest request matters: an older answer that arrives late is dropped.
let worker = null;
let nextId = 1;
const pending = new Map();

function getWorker() {
  if (!worker) {
    worker = new Worker(new URL("./layout-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = (event) => {
      const { id } = event.data;
      const entry = pending.get(id);
      if (!entry) return;
      pending.delete(id);
      if (event.data.error) entry.reject(new Error(event.data.error));
      else entry.resolve(event.data);
    };
    worker.onerror = (event) => {
      for (const entry of pending.values()) entry.reject(new Error(event.message || "layout worker failed"));
      pending.clear();
    };
  }
  return worker;
}

/**
 * Lay out `nodes` (each {id, w, h}) and `edges` (each {source, target} by id).
 * Resolves to {positions: Map id -> {x, y}, edgePoints: Array of [[x, y], ...] per edge, width, height, ms},
 * or to null when a newer layout was asked for meanwhile.
 */
export function layoutGraph(nodes, edges, options = {}) {
  const indexOf = new Map(nodes.map((n, i) => [n.id, i]));
  const sizes = new Float32Array(nodes.length * 2);
  nodes.forEach((n, i) => { sizes[2 * i] = n.w; sizes[2 * i + 1] = n.h; });
  const kept = edges.filter((e) => indexOf.has(e.source) && indexOf.has(e.target));
  const edgeArray = new Int32Array(kept.length * 2);
  kept.forEach((e, j) => { edgeArray[2 * j] = indexOf.get(e.source); edgeArray[2 * j + 1] = indexOf.get(e.target); });
  const id = nextId++;
  for (const [oldId, entry] of pending) { pending.delete(oldId); entry.resolve(null); }
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ id, sizes, edges: edgeArray, options }, [sizes.buffer, edgeArray.buffer]);
  }).then((answer) => {
    if (!answer) return null;
    const positions = new Map();
    nodes.forEach((n, i) => positions.set(n.id, { x: answer.xy[2 * i], y: answer.xy[2 * i + 1] }));
    const edgePoints = kept.map((e, j) => {
      const pts = [];
      for (let k = answer.offsets[j]; k < answer.offsets[j + 1]; k++) pts.push([answer.points[2 * k], answer.points[2 * k + 1]]);
      return { source: e.source, target: e.target, kind: e.kind, index: e.index, points: pts };
    });
    return { positions, edges: edgePoints, width: answer.width, height: answer.height, rankdir: answer.rankdir, ms: answer.ms };
  });
}

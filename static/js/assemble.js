// From the visible structure (view.js) to layout jobs for the worker (layouter-worker.js), and from the
// groups' layouts back to one flat scene in absolute coordinates: nodes (trace nodes, collapsed
// groups, references, ports), frames (expanded groups) and edges (polylines). A group's layout is kept
// under a key made of what it depends on (its children, their sizes, its edges, the layouts of its
// expanded children), so expanding a group lays out only that group and the groups around it.
import { isGroupId } from "./groups.js";
import { isPortId, isRefId } from "./view.js";

const CACHE_MAX = 20000; // group layouts kept (every group of a 10,000-op chain, opened, is 5,556)

/** A cache of group layouts by key (insertion-ordered: the oldest are dropped first). */
export function createLayoutCache() {
  const map = new Map();
  return {
    get: (key) => map.get(key),
    has: (key) => map.has(key),
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      if (map.size > CACHE_MAX) map.delete(map.keys().next().value);
    },
    clear: () => map.clear(),
  };
}

/**
 * Jobs for the groups whose layout is not cached, children first.
 * `sizeOf(id)` -> {w, h} for a drawn item; `options.rootRankdir`: "auto" lets a flat root choose TB or LR.
 * `canon(id)`: a trace node's key that is the same for the same place in another trace (a training
 * loop's passes: passes.nodeKeys), so that a graph of the same shape finds its layout in the cache.
 * Returns {jobs, known: {gid: [w, h]}, hits: Map gid -> cached layout, keys: Map gid -> key, total (groups to lay out)}.
 */
export function layoutJobs(structure, sizeOf, cache, { m, rootRankdir = "TB", minWidths = {}, canon = (id) => id } = {}) {
  const item = (id) => {
    if (isPortId(id)) return id;
    if (isRefId(id)) { const r = structure.refs.get(id); return `r:${canon(r.tensor)}:${canon(r.reader)}`; }
    return canon(id);
  };
  const keys = new Map();
  const jobs = [];
  const known = {};
  const hits = new Map();
  for (const gid of structure.order) {
    const layout = structure.layouts.get(gid);
    const n = layout.items.length;
    const sizes = new Float32Array(2 * n);
    const kinds = new Uint8Array(n);
    const subs = new Array(n).fill(null);
    const parts = [];
    layout.items.forEach((id, i) => {
      if (isPortId(id)) {
        kinds[i] = structure.ports.get(id).dir === "in" ? 1 : 2;
        sizes[2 * i] = m.port;
        sizes[2 * i + 1] = m.port;
        parts.push(item(id));
      } else if (isGroupId(id) && structure.layouts.has(id)) {
        kinds[i] = 3;
        subs[i] = id;
        parts.push(`${id}{${keys.get(id)}}`);
      } else {
        const { w, h } = refBox(structure, id, sizeOf, m);
        sizes[2 * i] = w;
        sizes[2 * i + 1] = h;
        const refs = structure.refsOf.get(id)?.map(item).join("+") ?? "";
        parts.push(`${item(id)}:${w}x${h}${refs}`);
      }
    });
    const index = new Map(layout.items.map((id, i) => [id, i]));
    const edgeKeys = [...layout.edges.keys()];
    const edges = new Int32Array(2 * edgeKeys.length);
    edgeKeys.forEach((k, j) => {
      const e = layout.edges.get(k);
      edges[2 * j] = index.get(e.from);
      edges[2 * j + 1] = index.get(e.to);
    });
    // Only a flat root may turn left to right: frames' ports and references stand above and beside
    // their items the top-to-bottom way.
    const flat = gid === structure.root && !kinds.includes(3) && !layout.items.some((id) => structure.refsOf.has(id));
    const rankdir = flat ? rootRankdir : "TB";
    const key = `${gid}|${rankdir}|${minWidths[gid] ?? 0}|${parts.join(",")}|${edges.join(",")}`;
    keys.set(gid, key);
    const cached = cache.get(key);
    if (cached) { known[gid] = [cached.width, cached.height]; hits.set(gid, cached); continue; }
    jobs.push({ gid, sizes, kinds, subs, edges, rankdir });
  }
  return { jobs, known, hits, keys, total: jobs.length };
}

/**
 * An item with references to shared tensors: the references stand in a column at its left, so the
 * layout places the two together ({w, h} of both, and dx: how far right of the box's centre the item is).
 */
export function refBox(structure, id, sizeOf, m) {
  const own = sizeOf(id);
  const refs = structure.refsOf.get(id);
  if (!refs?.length) return { ...own, dx: 0 };
  const sizes = refs.map(sizeOf);
  const rw = Math.max(...sizes.map((r) => r.w));
  const rh = sizes.reduce((k, r) => k + r.h, 0) + (sizes.length - 1) * m.refGap;
  const w = own.w + m.refGap * 2 + rw;
  return { w, h: Math.max(own.h, rh), dx: (w - own.w) / 2, rw, rh, sizes };
}

/** A worker answer for one job, as kept in the cache (by position: items and edges in the order sent). */
export function resultOf(msg) {
  return {
    xy: msg.xy, points: msg.points, offsets: msg.offsets, sizes: msg.sizes,
    width: msg.width, height: msg.height, contentW: msg.contentW, contentH: msg.contentH, rankdir: msg.rankdir,
  };
}

/**
 * The scene: every group placed inside its parent. `results`: Map gid -> cached layout.
 * Node records: {id, kind: tensor|op|group|ref|port, role, x, y, w, h, depth}; frames: {id, x, y, w, h, depth};
 * edges: {key, source, target, tensor, points}.
 */
export function assembleScene(structure, results, tree, { m, kindOf, sizeOf }) {
  const nodes = [];
  const frames = [];
  const edges = [];
  const pos = new Map();
  const place = (gid, ox, oy, depth) => {
    const r = results.get(gid);
    const layout = structure.layouts.get(gid);
    layout.items.forEach((id, i) => {
      const x = ox + r.xy[2 * i];
      const y = oy + r.xy[2 * i + 1];
      const w = r.sizes[2 * i];
      const h = r.sizes[2 * i + 1];
      pos.set(id, { x, y, w, h });
      if (isGroupId(id) && structure.layouts.has(id)) {
        const sub = results.get(id);
        const fx = x - w / 2;
        const fy = y - h / 2;
        frames.push({ id, x: fx, y: fy, w, h, depth: depth + 1 });
        const dx = (w - 2 * m.framePad - sub.contentW) / 2;
        place(id, fx + m.framePad + Math.max(dx, 0), fy + m.header, depth + 1);
      } else {
        const box = structure.refsOf.has(id) ? refBox(structure, id, sizeOf, m) : { dx: 0 };
        const own = box.dx ? sizeOf(id) : { w, h };
        nodes.push({ id, ...kindOf(id), x: x + box.dx, y, w: own.w, h: own.h, depth });
        if (box.dx) pos.set(id, { x: x + box.dx, y, w: own.w, h: own.h });
        // References in a column at the left, each with a short edge to the item.
        let ry = y - box.rh / 2;
        structure.refsOf.get(id)?.forEach((ref, k) => {
          const s = box.sizes[k];
          const rx = x - w / 2 + box.rw / 2;
          const cy = ry + s.h / 2;
          nodes.push({ id: ref, ...kindOf(ref), x: rx, y: cy, w: s.w, h: s.h, depth });
          pos.set(ref, { x: rx, y: cy, w: s.w, h: s.h });
          const tx = x + box.dx - own.w / 2;
          const ty = Math.min(Math.max(cy, y - own.h / 2 + 4), y + own.h / 2 - 4);
          edges.push({ key: `ref|${ref}`, source: ref, target: id, tensor: structure.refs.get(ref).tensor,
            points: [[rx + s.w / 2, cy], [(rx + s.w / 2 + tx) / 2, (cy + ty) / 2], [tx, ty]] });
          ry += s.h + m.refGap;
        });
      }
    });
    [...layout.edges.keys()].forEach((key, j) => {
      const e = structure.edgeByKey.get(key);
      const pts = [];
      for (let k = r.offsets[j]; k < r.offsets[j + 1]; k++) pts.push([ox + r.points[2 * k], oy + r.points[2 * k + 1]]);
      edges.push({ key, source: e.from, target: e.to, tensor: structure.layouts.get(gid).edges.get(key).tensor, points: pts });
    });
  };
  place(structure.root, 0, 0, 0);
  // An edge that enters or leaves an expanded group ends at that group's port; one
  // that reaches an item with references, at the item (right of its references).
  for (const e of edges) {
    if (!e.points.length || e.key.startsWith("ref|")) continue;
    for (const [end, at] of [[e.source, 0], [e.target, e.points.length - 1]]) {
      if (!structure.refsOf.has(end)) continue;
      const p = pos.get(end);
      e.points[at] = [p.x, at === 0 ? p.y + p.h / 2 : p.y - p.h / 2];
    }
    if (isGroupId(e.source) && structure.layouts.has(e.source)) {
      const p = pos.get(`p:out:${e.source}`);
      if (p) e.points[0] = [p.x, p.y];
    }
    if (isGroupId(e.target) && structure.layouts.has(e.target)) {
      const p = pos.get(`p:in:${e.target}`);
      if (p) e.points[e.points.length - 1] = [p.x, p.y];
    }
  }
  const root = results.get(structure.root);
  // Frames outermost first (drawn first); nodes in the order of the trace's execution.
  frames.sort((a, b) => a.depth - b.depth);
  return { nodes, frames, edges, width: root.width, height: root.height, rankdir: root.rankdir, metrics: m, pos };
}

export { isRefId };

// What the graph pane lays out for a set of expanded groups (groups.js): every expanded group is one
// small layered layout of its visible children (trace nodes, collapsed groups, expanded groups as
// boxes of their own size). Edges between groups are bundled at the groups' borders: all that enters a
// group enters through one port at its top, all that leaves through one at its bottom, so each layout
// only sees its own children and a group read by many is not a fringe of edges. A tensor read in more than REF_LIMIT other groups (a
// shared weight, the data of a training loop) gets a small reference next to each reader instead of a
// long edge to each: long edges would cross every group between them and, in a layered layout, pull
// dummy nodes through every rank (a weight read by 1,000 ops made the flat layout 17 s; see
// bench/browser_render.py). No DOM here.
import { isGroupId } from "./groups.js";

export const REF_LIMIT = 3;
export const isRefId = (id) => id.startsWith("r:");
export const isPortId = (id) => id.startsWith("p:");

/**
 * The visible structure for `expanded` (a Set of group ids; the root is always expanded).
 * `hidden`: trace node ids not drawn (constants when they are hidden).
 * Returns {layouts: Map gid -> {id, items, edges: Map key -> {from, to, tensor}}, order (children first),
 *          parentOf: Map item -> gid, itemOf(id), refs: Map id -> {tensor, reader, group},
 *          refsOf: Map reader item -> [ref ids] (drawn at the reader's left, not laid out), ports: Map id -> {group, dir},
 *          routes: {get("source>target")} -> [edge keys] of a trace edge, edgeByKey: Map key -> {group, from, to}}
 */
export function visibleStructure(tree, expanded, { hidden = new Set(), edges = [] } = {}) {
  const layouts = new Map();
  const order = [];
  const parentOf = new Map();
  const empty = new Map(); // group id -> has nothing visible
  const isEmpty = (gid) => {
    if (empty.has(gid)) return empty.get(gid);
    const g = tree.group(gid);
    const e = g.children.every((c) => (isGroupId(c) ? isEmpty(c) : hidden.has(c)));
    empty.set(gid, e);
    return e;
  };
  const visit = (gid) => {
    const g = tree.group(gid);
    const items = [];
    for (const c of g.children) {
      if (isGroupId(c) ? isEmpty(c) : hidden.has(c)) continue;
      items.push(c);
      parentOf.set(c, gid);
      if (isGroupId(c) && expanded.has(c)) visit(c);
    }
    layouts.set(gid, { id: gid, items, edges: new Map() });
    order.push(gid);
  };
  visit(tree.root);

  const itemCache = new Map();
  const itemOf = (id) => {
    let item = itemCache.get(id);
    if (item === undefined) {
      item = id;
      for (let g = tree.home.get(id); g; g = tree.group(g).parent) if (!expanded.has(g)) item = g;
      itemCache.set(id, item);
    }
    return item;
  };
  const depth = (gid) => tree.group(gid).depth;
  const refs = new Map();
  const refsOf = new Map();
  const ports = new Map();
  const edgeByKey = new Map();

  const addEdge = (gid, from, to, tensor) => {
    const key = `${gid}|${from}|${to}`;
    const layout = layouts.get(gid);
    if (!layout.edges.has(key)) { layout.edges.set(key, { from, to, tensor }); edgeByKey.set(key, { group: gid, from, to }); }
    return key;
  };
  const addItem = (gid, id) => {
    if (parentOf.has(id)) return;
    parentOf.set(id, gid);
    layouts.get(gid).items.push(id);
  };
  const port = (gid, tensor, dir) => {
    const id = `p:${dir}:${gid}`;
    if (!ports.has(id)) { ports.set(id, { group: gid, dir }); addItem(gid, id); }
    return id;
  };
  // From item a to item b, carrying `tensor`, through the ports of the groups between them.
  const route = (a, b, tensor) => {
    let ga = parentOf.get(a);
    let gb = parentOf.get(b);
    let ca = a;
    let cb = b;
    const keys = [];
    const up = [];
    while (ga !== gb) {
      if (depth(ga) >= depth(gb)) {
        const p = port(ga, tensor, "out");
        keys.push(addEdge(ga, ca, p, tensor));
        ca = ga;
        ga = tree.group(ga).parent;
      } else {
        const p = port(gb, tensor, "in");
        up.push(addEdge(gb, p, cb, tensor));
        cb = gb;
        gb = tree.group(gb).parent;
      }
    }
    keys.push(addEdge(ga, ca, cb, tensor));
    return keys.concat(up.reverse());
  };

  // Edges between two drawn items (most edges of a large graph are inside a collapsed group).
  const cross = [];
  for (const e of edges) {
    if (hidden.has(e.source) || hidden.has(e.target) || !tree.home.has(e.source) || !tree.home.has(e.target)) continue;
    const a = itemOf(e.source);
    const b = itemOf(e.target);
    if (a !== b) cross.push(e);
  }
  // A tensor read in more than REF_LIMIT other groups gets references.
  const remote = new Map();
  for (const e of cross) {
    if (e.kind !== "input") continue;
    const a = itemOf(e.source);
    const b = itemOf(e.target);
    if (parentOf.get(b) === parentOf.get(a)) continue;
    let set = remote.get(e.source);
    if (!set) remote.set(e.source, (set = new Set()));
    set.add(b);
  }
  // Its first reader keeps the edge (so the tensor is drawn above where it is first used); the others
  // get a reference.
  const referenced = new Map();
  for (const [tensor, readers] of remote) if (readers.size > REF_LIMIT) referenced.set(tensor, new Set([...readers].slice(1)));
  // The edges a trace edge is drawn as (idempotent: the second time, the same keys).
  const connect = (source, target, kind) => {
    const a = itemOf(source);
    const b = itemOf(target);
    if (a === b) return [];
    const tensor = kind === "input" ? source : target;
    if (kind === "input" && referenced.get(source)?.has(b)) {
      const id = `r:${source}:${b}`;
      const key = `ref|${id}`;
      if (!refs.has(id)) {
        refs.set(id, { tensor: source, reader: b, group: parentOf.get(b) });
        if (!refsOf.has(b)) refsOf.set(b, []);
        refsOf.get(b).push(id);
        edgeByKey.set(key, { group: parentOf.get(b), from: id, to: b });
      }
      return [key];
    }
    return route(a, b, tensor);
  };
  for (const e of cross) connect(e.source, e.target, e.kind);
  // Routes for the step's highlighted edges, on demand (only edges drawn above: nothing new is added).
  const routes = {
    get(key) {
      const [source, target] = key.split(">");
      const n = tree.byId.get(source);
      if (!n || !tree.home.has(source) || !tree.home.has(target) || hidden.has(source) || hidden.has(target)) return [];
      const keys = connect(source, target, n.kind === "tensor" ? "input" : "output");
      return keys.every((k) => edgeByKey.has(k)) ? keys : [];
    },
  };
  return { layouts, order, parentOf, itemOf, refs, refsOf, ports, routes, edgeByKey, referenced };
}

/** Every visible item id (trace nodes, groups, references), without ports. */
export function visibleItems(structure) {
  const out = [...structure.refs.keys()];
  for (const layout of structure.layouts.values()) for (const id of layout.items) if (!isPortId(id)) out.push(id);
  return out;
}

// Groups of a trace, from what the engine records on every op (app/trace_model.py): the program's own
// function calls (`stack`, told apart by `calls`), nn.Module calls (`module`, `module_class`,
// `module_call`; a container's class from `trace.modules`), loop iterations (ops with the
// same `site` repeat once per iteration) and source lines (straight-line code). Long runs are cut into
// blocks (iterations 0–99, lines 12–40) so that no group has more than a few dozen children: each
// group is laid out on its own, and only when it is expanded. Pure data, no DOM.
//
// A group id starts with "g:"; trace node ids never do. `tree.children(g)` lists node ids and group
// ids in execution order; every trace node has one home group (`tree.home`): an op's is where it ran,
// a tensor's is its producer's, a leaf's is the innermost group holding every op that reads it.

export const MAX_ITERATIONS = 12; // iterations shown side by side before they are cut into blocks of 10^k
export const MAX_CHILDREN = 30;   // other children of a group before they are cut into blocks
export const LINE_GROUPS_ABOVE = 12; // straight-line code gathers its ops by line only when it is longer

const isGroupId = (id) => typeof id === "string" && id.startsWith("g:");
export { isGroupId };

/** Scope path of an op: functions outside modules, module path segments, helper functions inside them.
 * `call` is the engine's number for that call when it sent one (the same number, the same call). */
function scopes(op, moduleClass) {
  const out = [];
  const stack = op.stack ?? [];
  const fn = (k) => ({ key: `f:${stack[k]}`, kind: "function", name: stack[k], call: op.calls?.[k] });
  if (!op.module) { stack.forEach((_, k) => out.push(fn(k))); return out; }
  const forward = stack.findIndex((s) => /\.forward$/.test(s));
  for (let k = 0; k < (forward < 0 ? stack.length : forward); k++) out.push(fn(k));
  const parts = op.module.split(".");
  for (let k = 1; k <= parts.length; k++) {
    const path = parts.slice(0, k).join(".");
    const call = k === parts.length ? op.module_call ?? undefined : undefined;
    out.push({ key: `m:${path}`, kind: "module", name: path, cls: moduleClass.get(path) ?? null, call });
  }
  if (forward >= 0) for (let k = forward; k < stack.length; k++) if (!/\.forward$/.test(stack[k])) out.push(fn(k));
  return out;
}

/** Is the open call `open` the call the op's scope `scope` names? By number when the engine sent one;
 * otherwise the op that started it running again means a new call (the next iteration). */
function sameCall(open, scope, op) {
  if (open.key !== scope.key) return false;
  if (open.call !== undefined && scope.call !== undefined) return open.call === scope.call;
  return !(op.site && open.firstSite === op.site);
}

/** Calls (function and module) as nested instances of ops, in execution order. */
function callTree(ops, moduleClass) {
  const root = { kind: "root", key: "", units: [], firstSite: null };
  let open = [root];
  for (const op of ops) {
    const path = scopes(op, moduleClass);
    let d = 0;
    while (d < path.length && d + 1 < open.length && sameCall(open[d + 1], path[d], op)) d++;
    open = open.slice(0, d + 1);
    for (let k = d; k < path.length; k++) {
      const call = { ...path[k], units: [], firstSite: op.site || null };
      open[k].units.push(call);
      open.push(call);
    }
    open[path.length].units.push(op);
  }
  return root;
}

const unitSite = (u) => (u.kind === "op" ? (u.site || `#${u.id}`) : `${u.key}|${u.firstSite ?? ""}`);
const unitLine = (u) => (u.kind === "op" ? u.span?.line ?? null : null);

export function buildGroups(trace) {
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const seen = new Set();
  const ops = [];
  for (const s of trace.forward) {
    const op = byId.get(s.op);
    if (op && !seen.has(op.id)) { seen.add(op.id); ops.push(op); }
  }
  for (const n of trace.nodes) if (n.kind === "op" && !seen.has(n.id)) ops.push(n);
  const moduleClass = new Map(Object.entries(trace.modules ?? {}));  // every module called, containers too
  for (const op of ops) if (op.module && op.module_class && !moduleClass.has(op.module)) moduleClass.set(op.module, op.module_class);

  const groups = new Map();
  let next = 0;
  const newGroup = (fields) => {
    const g = { id: `g:${next++}`, parent: null, children: [], ops: 0, nodes: 0, depth: 0, ...fields };
    groups.set(g.id, g);
    return g;
  };

  // Units (ops and calls) in one scope to children: loops cut into iterations, straight-line ops
  // gathered by line, calls made groups of their own. Returns a list of op ids and groups.
  function organise(units) {
    const n = units.length;
    const sites = units.map(unitSite);
    const first = new Map();
    const last = new Map();
    sites.forEach((s, i) => { if (!first.has(s)) first.set(s, i); last.set(s, i); });
    // A loop is where sites repeat: the union of overlapping [first, last] spans of repeated sites.
    const loopEnd = new Int32Array(n).fill(-1);
    for (const [s, a] of first) { const b = last.get(s); if (b > a) loopEnd[a] = Math.max(loopEnd[a], b); }
    const items = [];
    let straight = [];
    const flush = () => { items.push(...byLine(straight)); straight = []; };
    for (let i = 0; i < n;) {
      if (loopEnd[i] < 0) { straight.push(units[i]); i++; continue; }
      let end = loopEnd[i];
      for (let j = i; j <= end; j++) end = Math.max(end, loopEnd[j]);
      flush();
      items.push(loop(units.slice(i, end + 1), sites.slice(i, end + 1)));
      i = end + 1;
    }
    flush();
    return items;
  }

  function byLine(units) {
    const out = [];
    const lines = units.length > LINE_GROUPS_ABOVE;
    for (let i = 0; i < units.length;) {
      const u = units[i];
      if (u.kind !== "op") { out.push(call(u)); i++; continue; }
      let j = i + 1;
      const line = unitLine(u);
      while (lines && line != null && j < units.length && units[j].kind === "op" && unitLine(units[j]) === line) j++;
      if (j - i >= 2) out.push(group({ kind: "line", line }, units.slice(i, j).map((o) => o.id)));
      else out.push(u.id);
      i = j;
    }
    return out;
  }

  function call(c) {
    return group({ kind: c.kind, name: c.name, cls: c.cls ?? null }, organise(c.units));
  }

  // A loop: cut where its first site comes round again; each iteration organised on its own.
  function loop(units, sites) {
    const start = sites[0];
    const iterations = [];
    let cur = [];
    units.forEach((u, i) => {
      if (sites[i] === start && cur.length) { iterations.push(cur); cur = []; }
      cur.push(u);
    });
    if (cur.length) iterations.push(cur);
    const its = iterations.map((us, k) => group({ kind: "iteration", index: k }, organise(us)));
    return group({ kind: "loop", count: its.length }, blocks(its, MAX_ITERATIONS, true));
  }

  /** Children cut into nested blocks of 10^k when there are more than `max`. */
  function blocks(items, max, iterations, offset = 0) {
    if (items.length <= max) return items;
    let size = 10;
    while (items.length / size > max) size *= 10;
    const out = [];
    for (let i = 0; i < items.length; i += size) {
      const part = items.slice(i, i + size);
      const from = offset + i;
      out.push(part.length === 1 ? part[0]
        : group({ kind: "block", from, to: from + part.length - 1, iterations }, blocks(part, max, iterations, from)));
    }
    return out;
  }

  function group(fields, children) {
    const g = newGroup(fields);
    g.children = children.map((c) => (typeof c === "string" ? c : c.id));
    for (const c of children) if (typeof c !== "string") c.parent = g.id;
    return g;
  }

  const rootCall = callTree(ops, moduleClass);
  const rootItems = organise(rootCall.units);
  const root = group({ kind: "root" }, rootItems.length > MAX_CHILDREN ? blocks(rootItems, MAX_CHILDREN, false) : rootItems);
  // Other groups with too many children (straight-line code in a call, an iteration's body).
  for (const g of [...groups.values()]) {
    if (g === root || g.kind === "loop" || g.kind === "block" || g.children.length <= MAX_CHILDREN) continue;
    const items = g.children.map((c) => (isGroupId(c) ? groups.get(c) : c));
    g.children = blocks(items, MAX_CHILDREN, false).map((c) => (typeof c === "string" ? c : c.id));
    for (const c of g.children) if (isGroupId(c)) groups.get(c).parent = g.id;
  }

  // Homes: ops where they ran, produced tensors with their producer, leaves with the readers' common group.
  const home = new Map();
  for (const g of groups.values()) for (const c of g.children) if (!isGroupId(c)) home.set(c, g.id);
  depths(groups, root);
  const readers = new Map();
  for (const op of ops) for (const id of op.inputs) { if (!readers.has(id)) readers.set(id, []); readers.get(id).push(op.id); }
  for (const n of trace.nodes) {
    if (n.kind !== "tensor") continue;
    let g = n.producer && home.get(n.producer);
    if (!g) {
      const rs = readers.get(n.id) ?? [];
      g = rs.length ? rs.map((r) => home.get(r)).reduce((a, b) => commonGroup(groups, a, b)) : root.id;
    }
    home.set(n.id, g);
  }
  // Tensors go right after their producer (or before their first reader) among their group's children.
  placeTensors(trace, groups, home, byId, readers);
  flattenSingles(groups, home, root);
  depths(groups, root);
  summarise(groups, root, home, byId, trace);
  computeIO(groups, home, byId, readers, trace);
  return makeTree({ root: root.id, groups, home, readers }, byId);
}

function depths(groups, root) {
  const walk = (g, d) => { g.depth = d; for (const c of g.children) if (isGroupId(c)) walk(groups.get(c), d + 1); };
  walk(root, 0);
}

function commonGroup(groups, a, b) {
  let x = groups.get(a);
  let y = groups.get(b);
  while (x.depth > y.depth) x = groups.get(x.parent);
  while (y.depth > x.depth) y = groups.get(y.parent);
  while (x !== y) { x = groups.get(x.parent); y = groups.get(y.parent); }
  return x.id;
}

function placeTensors(trace, groups, home, byId, readers) {
  const after = new Map(); // op id -> tensors listed after it
  const before = new Map(); // child id -> leaves listed before it
  for (const n of trace.nodes) {
    if (n.kind !== "tensor") continue;
    const g = groups.get(home.get(n.id));
    if (n.producer && home.get(n.producer) === g.id) {
      if (!after.has(n.producer)) after.set(n.producer, []);
      after.get(n.producer).push(n.id);
      continue;
    }
    // A leaf: before the child of its group that holds its first reader.
    const first = (readers.get(n.id) ?? [])[0];
    let child = first ?? null;
    if (child) {
      let h = home.get(child);
      while (h && h !== g.id) { child = h; h = groups.get(h).parent; }
      if (h !== g.id) child = null;
    }
    const key = child ?? `end:${g.id}`;
    if (!before.has(key)) before.set(key, []);
    before.get(key).push(n.id);
  }
  for (const g of groups.values()) {
    const out = [];
    for (const c of g.children) {
      if (before.has(c)) out.push(...before.get(c));
      out.push(c);
      if (after.has(c)) out.push(...after.get(c));
    }
    if (before.has(`end:${g.id}`)) out.push(...before.get(`end:${g.id}`));
    g.children = out;
  }
}

/** A group that holds a single child, or a single op and what it made, is no group at all. */
function flattenSingles(groups, home, root) {
  const order = [...groups.values()].sort((a, b) => b.depth - a.depth);
  for (const g of order) {
    if (g === root) continue;
    const subgroups = g.children.filter(isGroupId);
    const single = g.children.length === 1 || (subgroups.length === 0 && g.children.length <= 2);
    if (!single) continue;
    const parent = groups.get(g.parent);
    const at = parent.children.indexOf(g.id);
    parent.children.splice(at, 1, ...g.children);
    for (const c of g.children) {
      if (isGroupId(c)) groups.get(c).parent = parent.id;
      else home.set(c, parent.id);
    }
    groups.delete(g.id);
  }
}

/** Counts, execution range, lines and a label for every group. */
function summarise(groups, root, home, byId, trace) {
  const forwardAt = new Map(trace.forward.map((s, i) => [s.op, i]));
  const walk = (g) => {
    g.ops = 0; g.nodes = 0; g.first = Infinity; g.last = -1; g.lineMin = Infinity; g.lineMax = -Infinity;
    for (const c of g.children) {
      if (isGroupId(c)) {
        const s = groups.get(c);
        walk(s);
        g.ops += s.ops; g.nodes += s.nodes;
        g.first = Math.min(g.first, s.first); g.last = Math.max(g.last, s.last);
        g.lineMin = Math.min(g.lineMin, s.lineMin); g.lineMax = Math.max(g.lineMax, s.lineMax);
        continue;
      }
      const n = byId.get(c);
      g.nodes += 1;
      if (n.kind === "op") {
        g.ops += 1;
        const f = forwardAt.get(c);
        if (f !== undefined) { g.first = Math.min(g.first, f); g.last = Math.max(g.last, f); }
        if (n.span) { g.lineMin = Math.min(g.lineMin, n.span.line); g.lineMax = Math.max(g.lineMax, n.span.line); }
      }
    }
  };
  walk(root);
  // Pre-order numbering: node inside group g <=> g.lo <= lo(home) <= g.hi.
  let k = 0;
  const number = (g) => { g.lo = k++; for (const c of g.children) if (isGroupId(c)) number(groups.get(c)); g.hi = k - 1; };
  number(root);
}

/** Inputs and outputs of every group, at most IO_KEEP of each (the first inputs, the last outputs). */
export const IO_KEEP = 8;
function computeIO(groups, home, byId, readers, trace) {
  const lo = (id) => groups.get(home.get(id))?.lo;
  const contains = (g, l) => g.lo <= l && l <= g.hi;
  const ins = new Map();
  const outs = new Map();
  const add = (map, g, id) => { let s = map.get(g); if (!s) map.set(g, (s = new Set())); s.add(id); };
  for (const n of trace.nodes) {
    if (n.kind !== "tensor" || !home.has(n.id)) continue;
    const hu = home.get(n.id);
    const l = lo(n.id);
    const rs = readers.get(n.id) ?? [];
    if (!rs.length && n.producer) {
      for (let g = groups.get(hu); g && g.parent; g = groups.get(g.parent)) add(outs, g.id, n.id);
      continue;
    }
    for (const r of rs) {
      const lr = lo(r);
      if (lr === undefined) continue;
      // Groups around the reader that do not hold the tensor: it is one of their inputs.
      for (let g = groups.get(home.get(r)); g && !contains(g, l); g = groups.get(g.parent)) add(ins, g.id, n.id);
      // Groups around the tensor that do not hold the reader: it is one of their outputs.
      for (let g = groups.get(hu); g && !contains(g, lr); g = groups.get(g.parent)) add(outs, g.id, n.id);
    }
  }
  for (const g of groups.values()) {
    const i = [...(ins.get(g.id) ?? [])];
    const o = [...(outs.get(g.id) ?? [])];
    g.io = { inputs: i.slice(0, IO_KEEP), outputs: o.slice(-IO_KEEP), inputCount: i.length, outputCount: o.length };
  }
}

/** The tree object (from buildGroups, or rebuilt from what the groups worker sent). */
export function makeTree({ root, groups, home, readers }, byId) {
  return {
    root,
    groups,
    home,
    byId,
    readers,
    isGroup: isGroupId,
    group: (id) => groups.get(id),
    /** Is trace node or group `id` inside group `g` (or g itself)? */
    inside(id, g) {
      const grp = groups.get(g);
      const h = isGroupId(id) ? groups.get(id) : groups.get(home.get(id));
      return !!h && !!grp && grp.lo <= h.lo && h.lo <= grp.hi;
    },
    /** Groups from the root down to the home of `id` (a trace node or a group), root first. */
    ancestors(id) {
      const out = [];
      let g = isGroupId(id) ? groups.get(id)?.parent : home.get(id);
      while (g) { out.push(g); g = groups.get(g).parent; }
      return out.reverse();
    },
    io: (g) => groups.get(g).io,
  };
}

/**
 * Which groups start expanded: all of them when the graph is small; when it is large, the outermost
 * ones collapsed, opening one level of groups more only while the view stays under `budget` items (a
 * group alone at its level always opens: it would be all there is to see).
 */
export function defaultExpanded(tree, { smallNodes = 160, budget = 16 } = {}) {
  const root = tree.group(tree.root);
  const expanded = new Set([root.id]);
  if (root.nodes <= smallNodes) {
    for (const id of tree.groups.keys()) expanded.add(id);
    return expanded;
  }
  let visible = root.children.length;
  let level = root.children.filter(isGroupId).map((id) => tree.group(id));
  while (level.length) {
    const grow = level.reduce((k, g) => k + g.children.length - 1, 0);
    if (level.length > 1 && visible + grow > budget) break;
    for (const g of level) expanded.add(g.id);
    visible += grow;
    level = level.flatMap((g) => g.children.filter(isGroupId).map((id) => tree.group(id)));
  }
  return expanded;
}

/** The outermost collapsed group holding trace node `id`, or `id` itself when every group around it is open. */
export function visibleItem(tree, expanded, id) {
  let item = id;
  let g = isGroupId(id) ? tree.group(id)?.parent : tree.home.get(id);
  while (g) {
    if (!expanded.has(g)) item = g;
    g = tree.group(g).parent;
  }
  return item;
}

/** The groups to open so that `id` (a trace node or a group) is drawn by itself. */
export function reveal(tree, expanded, id) {
  const out = new Set(expanded);
  for (const g of tree.ancestors(id)) out.add(g);
  return out;
}

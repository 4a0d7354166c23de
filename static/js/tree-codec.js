// The wire format between the page and the groups worker (groups-worker.js): flat typed arrays and
// arrays of strings instead of objects, because copying tens of thousands of small objects to and
// from a worker (structured clone) costs the main thread hundreds of milliseconds; typed arrays are
// transferred without a copy. Trace nodes travel by their position in `trace.nodes`.
import { isGroupId } from "./groups.js";

/** Trace -> what groups.js reads, as columns. */
export function encodeTrace(trace) {
  const n = trace.nodes.length;
  const pos = new Map(trace.nodes.map((node, i) => [node.id, i]));
  const isOp = new Uint8Array(n);
  const line = new Int32Array(n).fill(-1);
  const producer = new Int32Array(n).fill(-1);
  const inputStart = new Int32Array(n + 1);
  const inputs = [];
  const site = new Array(n).fill("");
  const stack = new Array(n).fill("");
  const module = new Array(n).fill("");
  const moduleClass = new Array(n).fill("");
  const calls = new Array(n).fill("");
  const moduleCall = new Int32Array(n).fill(-1);
  trace.nodes.forEach((node, i) => {
    inputStart[i] = inputs.length;
    if (node.kind === "op") {
      isOp[i] = 1;
      if (node.span) line[i] = node.span.line;
      site[i] = node.site ?? "";
      stack[i] = (node.stack ?? []).join("\u0001");
      module[i] = node.module ?? "";
      moduleClass[i] = node.module_class ?? "";
      calls[i] = (node.calls ?? []).join(",");
      if (node.module_call != null) moduleCall[i] = node.module_call;
      for (const id of node.inputs) inputs.push(pos.get(id) ?? -1);
    } else if (node.producer != null && pos.has(node.producer)) {
      producer[i] = pos.get(node.producer);
    }
  });
  inputStart[n] = inputs.length;
  const forward = Int32Array.from(trace.forward.map((s) => pos.get(s.op) ?? -1));
  const columns = { isOp, line, producer, inputStart, inputs: Int32Array.from(inputs), forward, moduleCall };
  const strings = { site, stack, module, moduleClass, calls, modules: Object.entries(trace.modules ?? {}) };
  return { columns, strings, transfer: Object.values(columns).map((a) => a.buffer) };
}

/** Columns -> a trace-like object for groups.js (ids are "n<position>"). */
export function decodeTrace({ columns, strings }) {
  const { isOp, line, producer, inputStart, inputs, forward, moduleCall } = columns;
  const nodes = [];
  for (let i = 0; i < isOp.length; i++) {
    if (isOp[i]) {
      const ins = [];
      for (let k = inputStart[i]; k < inputStart[i + 1]; k++) if (inputs[k] >= 0) ins.push(`n${inputs[k]}`);
      nodes.push({
        id: `n${i}`, kind: "op", site: strings.site[i], stack: strings.stack[i] ? strings.stack[i].split("\u0001") : [],
        module: strings.module[i] || null, module_class: strings.moduleClass[i] || null,
        calls: strings.calls[i] ? strings.calls[i].split(",").map(Number) : [],
        module_call: moduleCall[i] >= 0 ? moduleCall[i] : null,
        span: line[i] >= 0 ? { line: line[i] } : null, inputs: ins,
      });
    } else {
      nodes.push({ id: `n${i}`, kind: "tensor", producer: producer[i] >= 0 ? `n${producer[i]}` : null });
    }
  }
  return { nodes, forward: Array.from(forward, (i) => ({ op: `n${i}` })), modules: Object.fromEntries(strings.modules) };
}

const NUMBERS = ["depth", "lo", "hi", "ops", "nodes", "first", "last", "lineMin", "lineMax", "index", "count", "from", "to", "line"];

/** A tree built on a decoded trace -> columns (node ids "n<position>" become positions). */
export function encodeTree(tree) {
  const groups = [...tree.groups.values()];
  const gi = new Map(groups.map((g, i) => [g.id, i]));
  const node = (id) => Number(id.slice(1));
  const code = (c) => (isGroupId(c) ? gi.get(c) : -(node(c) + 1));
  const parent = Int32Array.from(groups, (g) => (g.parent ? gi.get(g.parent) : -1));
  const numbers = new Float64Array(groups.length * NUMBERS.length);
  groups.forEach((g, i) => NUMBERS.forEach((k, j) => { numbers[i * NUMBERS.length + j] = g[k] ?? NaN; }));
  const flat = (list) => {
    const start = new Int32Array(groups.length + 1);
    const out = [];
    groups.forEach((g, i) => { start[i] = out.length; for (const c of list(g)) out.push(code(c)); });
    start[groups.length] = out.length;
    return [start, Int32Array.from(out)];
  };
  const [childStart, children] = flat((g) => g.children);
  const [inStart, ins] = flat((g) => g.io.inputs);
  const [outStart, outs] = flat((g) => g.io.outputs);
  const ioCounts = Int32Array.from(groups.flatMap((g) => [g.io.inputCount, g.io.outputCount]));
  let size = 0;
  for (const id of tree.home.keys()) size = Math.max(size, node(id) + 1);
  const home = new Int32Array(size).fill(-1);
  for (const [id, g] of tree.home) home[node(id)] = gi.get(g);
  const columns = { parent, numbers, childStart, children, inStart, ins, outStart, outs, ioCounts, home };
  const strings = {
    ids: groups.map((g) => g.id), kinds: groups.map((g) => g.kind), names: groups.map((g) => g.name ?? ""),
    classes: groups.map((g) => g.cls ?? ""), iterations: groups.map((g) => !!g.iterations),
  };
  return { root: gi.get(tree.root), columns, strings, transfer: Object.values(columns).map((a) => a.buffer) };
}

/** Columns -> {root, groups: Map, home: Map} with the trace's own node ids. */
export function decodeTree({ root, columns, strings }, trace) {
  const ids = trace.nodes.map((n) => n.id);
  const { parent, numbers, childStart, children, inStart, ins, outStart, outs, ioCounts, home } = columns;
  const gid = strings.ids;
  const decode = (c) => (c >= 0 ? gid[c] : ids[-c - 1]);
  const list = (start, data, i) => { const out = []; for (let k = start[i]; k < start[i + 1]; k++) out.push(decode(data[k])); return out; };
  const groups = new Map();
  gid.forEach((id, i) => {
    const g = { id, kind: strings.kinds[i], parent: parent[i] >= 0 ? gid[parent[i]] : null, children: list(childStart, children, i) };
    if (strings.names[i]) g.name = strings.names[i];
    g.cls = strings.classes[i] || null;
    if (strings.iterations[i]) g.iterations = true;
    NUMBERS.forEach((k, j) => { const v = numbers[i * NUMBERS.length + j]; if (!Number.isNaN(v)) g[k] = v; });
    g.io = { inputs: list(inStart, ins, i), outputs: list(outStart, outs, i), inputCount: ioCounts[2 * i], outputCount: ioCounts[2 * i + 1] };
    groups.set(id, g);
  });
  const homes = new Map();
  for (let i = 0; i < home.length; i++) if (home[i] >= 0) homes.set(ids[i], gid[home[i]]);
  return { root: gid[root], groups, home: homes };
}

// Training loops (trace contract version 2): one backward pass at a time. From the whole trace to the
// trace of one detailed pass (its graph, its backward steps, its updates), the player's timeline with
// update steps after the backward ones, what the graph shows at an update step, and the shape of a
// pass's graph, so that moving between passes of the same shape keeps the layout. No DOM here.
import { buildTimeline, frameAt, indexTrace } from "./model.js";
import { inlineValue } from "./format.js";

/** A training loop: several passes, and either passes kept only as summaries or parameter updates. */
export function isTraining(trace) {
  const summaries = trace?.summaries ?? [];
  return summaries.length >= 2 && (summaries.some((s) => !s.detailed) || (trace.updates?.length ?? 0) > 0);
}

/** The detailed passes' global numbers, in order. */
export function detailedPasses(trace) {
  return (trace.passes ?? []).map((p) => p.index).sort((a, b) => a - b);
}

/**
 * The trace of detailed pass `k` alone: the ops of its iteration that led to its root (tensors made
 * before it, by the setup or an earlier iteration, and the parameters appear as inputs), its backward
 * steps (numbered from 0), the updates after it; parameters carry their value and gradient in this pass.
 */
export function passView(trace, k) {
  const pass = trace.passes.find((p) => p.index === k);
  if (!pass) return null;
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const forwardAt = new Map(trace.forward.map((s, i) => [s.op, i]));
  // The loop body: the sites of the ops the last detailed pass ran after the pass before it.
  const last = trace.passes.reduce((a, b) => (b.index > a.index ? b : a));
  const lastBoundary = boundaryOf(trace, byId, forwardAt, last);
  const body = new Set();
  for (const id of walk(byId, last.root, (op) => forwardAt.get(op.id) > lastBoundary)) body.add(byId.get(id).site);
  const boundary = boundaryOf(trace, byId, forwardAt, pass);
  const keep = walk(byId, pass.root, (op) => body.has(op.site) && forwardAt.get(op.id) > boundary);
  const steps = trace.backward.filter((s) => s.pass_index === k);
  const renumber = new Map(steps.map((s, i) => [s.index, i]));
  const backward = steps.map((s, i) => renumberStep(s, i, renumber));
  const updates = (trace.updates ?? []).filter((u) => u.pass_index === k);
  const before = new Map();
  for (const u of updates) for (const p of u.params) if (p.node_before && !before.has(p.node_before)) before.set(p.node_before, p.before);
  // A leaf's gradient in this pass: what AccumulateGrad stored (the node's own `grad` is the program's end).
  const view = { ...trace, nodes: [], edges: [], forward: [], backward, updates, passes: [{ ...pass, steps: backward.map((s) => s.index) }] };
  view.nodes = trace.nodes.filter((n) => keep.has(n.id));
  view.forward = trace.forward.filter((s) => keep.has(s.op));
  view.edges = trace.edges.filter((e) => keep.has(e.source) && keep.has(e.target));
  const index = indexTrace(view);
  const timeline = buildTimeline(view);
  const lastBackward = view.forward.length + backward.length;
  const grads = backward.length ? frameAt(index, timeline, lastBackward).grads : new Map();
  view.nodes = view.nodes.map((n) => {
    if (n.kind !== "tensor") return n;
    const value = before.get(n.id) ?? n.value;
    const grad = n.is_leaf ? grads.get(n.id) ?? null : n.grad;
    return value === n.value && grad === n.grad ? n : { ...n, value, grad };
  });
  return view;
}

/**
 * The forward position after which a pass's iteration runs: the root of the detailed pass before it
 * (-1 for the first, or when both passes ran backward from the same op).
 */
function boundaryOf(trace, byId, forwardAt, pass) {
  const earlier = trace.passes.filter((p) => p.index < pass.index).sort((a, b) => b.index - a.index)[0];
  const rootAt = (p) => forwardAt.get(byId.get(p.root)?.producer) ?? -1;
  return earlier && rootAt(earlier) < rootAt(pass) ? rootAt(earlier) : -1;
}

/** Node ids from `root` back through the ops `follow` accepts, stopping at parameters (and each op's other outputs). */
function walk(byId, root, follow) {
  const keep = new Set();
  const stack = [root];
  while (stack.length) {
    const id = stack.pop();
    const n = byId.get(id);
    if (!n || keep.has(id)) continue;
    keep.add(id);
    if (n.kind === "op") { stack.push(...n.inputs, ...n.outputs); continue; }
    if (n.is_leaf && n.requires_grad) continue;
    const producer = n.producer ? byId.get(n.producer) : null;
    if (producer && follow(producer)) stack.push(producer.id);
  }
  return keep;
}

function renumberStep(s, i, renumber) {
  const incoming = s.explanation?.incoming;
  if (!incoming) return { ...s, index: i };
  const terms = incoming.terms.map((term) => ({ ...term, step: term.step == null ? null : renumber.get(term.step) ?? term.step }));
  return { ...s, index: i, explanation: { ...s.explanation, incoming: { ...incoming, terms } } };
}

/** The player's positions: start, forward, backward, then each update after its pass, then end. */
export function passTimeline(trace) {
  const steps = buildTimeline(trace);
  const updates = (trace.updates ?? []).filter((u) => u.pass_index != null);
  if (!updates.length || !trace.backward.length) return steps;
  const end = steps.pop();
  updates.forEach((update, u) => steps.push({ type: "update", u, n: updates.length, update }));
  steps.push(end);
  return steps;
}

/** The frame at `pos`; at an update step, the end-of-pass values with the updated parameters highlighted. */
export function stepFrame(index, timeline, pos) {
  const cur = timeline[pos];
  if (cur?.type !== "update") return frameAt(index, timeline, pos);
  const frame = frameAt(index, timeline, timeline.length - 1);
  const nodes = new Map(touchedNodes(index, cur.update).map(({ id, role }) => [id, role]));
  return { ...frame, pos, cur, highlight: { nodes, edges: [] } };
}

/**
 * What an update step does to the shown graph: [{id, role, value?, grad?}]. A parameter whose value
 * after the step is a node of its own (the graph holds the update's ops) is marked there; otherwise
 * the parameter's node shows the new value. Parameters are found by node id, else by name.
 */
function touchedNodes(index, update, source) {
  const byName = (name) => index.trace.nodes.find((n) => n.kind === "tensor" && n.role === "param" && (n.name === name || n.names?.includes(name)))?.id;
  if (update.kind === "zero_grad") {
    const grad = `∇ ${clearedText(update, source)}`;
    return update.cleared.map(byName).filter(Boolean).map((id) => ({ id, role: "accumulate", grad }));
  }
  const out = [];
  for (const p of update.params) {
    const before = p.node_before && index.byId.has(p.node_before) ? p.node_before : byName(p.name);
    if (p.node_after && p.node_after !== before && index.byId.has(p.node_after)) {
      out.push({ id: p.node_after, role: "output" });
      if (before) out.push({ id: before, role: "input" });
    } else if (before) out.push({ id: before, role: "output", value: inlineValue(p.after, { withShape: false }) });
  }
  return out;
}

/** What clearing a gradient leaves: `.grad.zero_()` and `zero_grad(set_to_none=False)` zeros, else None. */
export function clearedText(update, source) {
  const line = update.span ? (source ?? "").split("\n")[update.span.line - 1] ?? "" : "";
  return /zero_\(|set_to_none\s*=\s*False/.test(line) ? "0" : "None";
}

/**
 * Node text changed by the updates done at `pos` (update steps and the end): value lines show the
 * value after the update, cleared gradients their new state. Map id -> {value?, grad?}.
 */
export function updateLines(index, timeline, pos, source) {
  const out = new Map();
  const cur = timeline[pos];
  if (cur?.type !== "update" && cur?.type !== "end") return out;
  for (const step of timeline.slice(0, pos + 1)) {
    if (step.type !== "update") continue;
    for (const { id, value, grad } of touchedNodes(index, step.update, source)) {
      if (value !== undefined) out.set(id, { ...out.get(id), value });
      if (grad !== undefined) out.set(id, { ...out.get(id), grad });
    }
  }
  return out;
}

// ---- the shape of a pass's graph, so the layout can be kept ------------------------------------

/**
 * A key per node that is the same for the same place in another iteration's graph: an op by its
 * site and how many ops of that site came before it in the graph, a tensor by the op that made it
 * (and which output), an input by the first op that reads it (and which argument).
 */
export function nodeKeys(trace) {
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const keys = new Map();
  const seen = new Map();
  const ops = [...trace.forward.map((s) => byId.get(s.op)), ...trace.nodes.filter((n) => n.kind === "op")];
  for (const op of ops) {
    if (!op || keys.has(op.id)) continue;
    const base = `o:${op.site || op.op}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    keys.set(op.id, `${base}#${n}`);
  }
  const reader = new Map();
  for (const op of ops) op?.inputs.forEach((id, arg) => { if (!reader.has(id)) reader.set(id, `${keys.get(op.id)}@${arg}`); });
  for (const n of trace.nodes) {
    if (n.kind !== "tensor") continue;
    const producer = n.producer && keys.get(n.producer);
    if (producer) keys.set(n.id, `t:${producer}:${byId.get(n.producer).outputs.indexOf(n.id)}`);
    else keys.set(n.id, `i:${reader.get(n.id) ?? n.name ?? n.label}`);
  }
  return keys;
}

/** One string for the graph's shape: its node keys and edges, at a text scale. */
export function shapeOf(keys, nodeIds, edges, scale) {
  const nodes = nodeIds.map((id) => keys.get(id)).sort();
  const links = edges.map((e) => `${keys.get(e.source)}>${keys.get(e.target)}`).sort();
  return `${scale}|${nodes.join(",")}|${links.join(",")}`;
}

/** Room for `lines` in node `n`: the largest of the sizes given for the same key. */
export function widest(sizes, key, w, h) {
  const s = sizes.get(key);
  sizes.set(key, s ? { w: Math.max(s.w, w), h: Math.max(s.h, h) } : { w, h });
}

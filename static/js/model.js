// From a Trace (app/trace_model.py) to the plain data the renderers draw: which nodes and edges are
// visible, what each node says, and what every step of the player shows. No DOM here.
import { inlineValue, shapeText, addValues, fmtNumber } from "./format.js";
import { gradSymbol, symbolName, rootName, isNonfinite } from "./notation.js";

export function indexTrace(trace) {
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  const forwardIndexOfOp = new Map(trace.forward.map((s, i) => [s.op, i]));
  return { trace, byId, forwardIndexOfOp };
}

/** A tensor's display name: its program name, else the expression that made it. */
export function displayName(node) {
  if (node.kind === "op") return node.label;
  return node.name ?? node.label;
}

/** Node ids not drawn: constants (and ops that only make constants) when they are hidden. */
export function hiddenNodes(index, { showConstants }) {
  const { trace } = index;
  const hidden = new Set();
  if (!showConstants) {
    for (const n of trace.nodes) if (n.kind === "tensor" && n.role === "constant") hidden.add(n.id);
    for (const n of trace.nodes) {
      if (n.kind === "op" && n.outputs.length && n.outputs.every((o) => hidden.has(o))) hidden.add(n.id);
    }
  }
  return hidden;
}

/** The graph to lay out: nodes and edges, without constants (and ops that only make constants) when hidden. */
export function visibleGraph(index, { showConstants }) {
  const { trace, byId } = index;
  const hidden = hiddenNodes(index, { showConstants });
  const nodes = trace.nodes.filter((n) => !hidden.has(n.id));
  const edges = trace.edges.filter((e) => !hidden.has(e.source) && !hidden.has(e.target) && byId.has(e.source) && byId.has(e.target));
  return { nodes, edges };
}

/** Text lines of a node for a given frame (value revealed or not, gradient so far), in the words of `t`. */
export function nodeLines(node, frame, hasBackward, t = null) {
  if (node.kind === "op") return { title: node.label };
  const v = node.value;
  const meta = `${shapeText(v, t)} ${v.dtype}`;
  const value = frame && !frame.revealed.has(node.id) ? "…" : inlineValue(v, { withShape: false, t });
  let grad = null;
  // The gradient line is there for every tensor that gets a gradient, from the start, so that nodes
  // keep their size while stepping: "∇ …" until the gradient arrives.
  if (hasBackward && node.grad) {
    const g = frame ? frame.grads.get(node.id) : node.grad;
    // NaN or ±Inf gets a warning sign in front, so it stands out before anyone reads the numbers.
    grad = g ? `∇ ${isNonfinite(g) ? "⚠ " : ""}${inlineValue(g, { withShape: false, t })}` : "∇ …";
  }
  return { title: displayName(node), meta, value, grad };
}

/** A node's accessible name from its lines (nodeLines): what it is, its value and gradient, in words. */
export function nodeAria(node, l, t) {
  if (node.kind === "op") return t("graph.opAria", { op: node.op, label: node.label, gradFn: node.grad_fn ?? "" });
  const grad = !l.grad ? "" : l.grad === "∇ …" ? t("graph.gradPending") : l.grad.slice(2);
  return t("graph.tensorAria", {
    role: t(`role.${node.role}`), name: l.title, meta: l.meta,
    value: l.value === "…" ? t("graph.valuePending") : l.value, grad,
  });
}

/** The player's positions: 0 = before the first op, then one per forward step, then one per backward step. */
export function buildTimeline(trace) {
  const steps = [{ type: "start" }];
  trace.forward.forEach((s, i) => steps.push({ type: "forward", i, op: s.op }));
  trace.backward.forEach((s, i) => steps.push({ type: "backward", i, step: s }));
  if (steps.length > 1) steps.push({ type: "end" });
  return steps;
}

/**
 * What the graph shows at timeline position `pos`: tensors whose value is known (`revealed.has(id)`),
 * each tensor's gradient so far (`grads.get(id)`), and which nodes and edges the current step
 * highlights. Lookups are lazy (a gradient is found by binary search in events computed once per
 * trace), so a step costs what is drawn, not the size of the trace. A grouped entry (groupTimeline)
 * shows everything up to its last raw step.
 */
export function frameAt(index, timeline, pos) {
  const { trace, byId, forwardIndexOfOp } = index;
  const cur = timeline[pos] ?? timeline[timeline.length - 1];
  const forwardDone = cur.type === "start" ? 0 : cur.type === "forward" ? cur.i + 1 : trace.forward.length;
  const revealed = {
    has(id) {
      const n = byId.get(id);
      if (!n || n.kind !== "tensor") return false;
      const fi = n.producer != null ? forwardIndexOfOp.get(n.producer) : undefined;
      return fi === undefined || fi < forwardDone;
    },
  };
  const backwardDone = cur.type === "backward" ? cur.i + 1 : cur.type === "end" ? trace.backward.length : 0;
  const end = cur.type === "end" && trace.backward.length > 0;
  const events = backwardDone && !end ? gradEvents(index) : null;
  const grads = {
    get(id) {
      if (end) {
        const n = byId.get(id);
        if (n?.kind !== "tensor") return undefined;
        if (n.grad) return n.grad;
      }
      const e = (end ? gradEvents(index) : events)?.get(id);
      if (!e) return undefined;
      // The last event before `backwardDone`.
      let lo = 0;
      let hi = e.steps.length - 1;
      let found = -1;
      const done = end ? trace.backward.length : backwardDone;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (e.steps[mid] < done) { found = mid; lo = mid + 1; } else hi = mid - 1;
      }
      return found >= 0 ? e.values[found] ?? undefined : undefined;
    },
    has(id) { return this.get(id) !== undefined; },
  };
  return { pos, cur, revealed, grads, highlight: cur.group ? groupHighlight(index, cur) : highlightOf(index, cur) };
}

/**
 * Every change of a tensor's gradient during backward, in step order: Map id -> {steps, values}
 * (null: a leaf's gradient on its way, shown once AccumulateGrad stores it). Computed once per trace.
 */
function gradEvents(index) {
  if (index.gradEvents) return index.gradEvents;
  const { trace, byId } = index;
  const events = new Map();
  const now = new Map();
  const receivedAll = new Set(); // tensors that got a gradient only by a flow (not the root seed)
  const set = (id, value, i) => {
    now.set(id, value);
    let e = events.get(id);
    if (!e) events.set(id, (e = { steps: [], values: [] }));
    if (e.steps[e.steps.length - 1] === i) e.values[e.values.length - 1] = value;
    else { e.steps.push(i); e.values.push(value); }
  };
  let pass = null;
  trace.backward.forEach((s, i) => {
    // Each pass starts afresh: dJ/dJ is the seed again and intermediates get this pass's gradient
    // (pending until it arrives); only leaves' .grad carries over, as torch accumulates it.
    if (s.pass_index !== pass) {
      pass = s.pass_index;
      for (const id of [...now.keys()]) {
        const n = byId.get(id);
        if (n?.is_leaf && n.requires_grad) continue;
        set(id, null, i);
        now.delete(id);
      }
      receivedAll.clear();
    }
    // A root's own gradient is the seed arriving at the first step of its pass.
    s.grad_in_targets?.forEach((t, k) => {
      if (t && !now.has(t) && s.grad_in[k] && byId.get(t)?.kind === "tensor" && !receivedAll.has(t)) set(t, s.grad_in[k], i);
    });
    if (s.kind === "accumulate" && s.node && s.accumulated) set(s.node, s.accumulated, i);
    for (const f of s.grads_out) {
      if (!f.target || !f.value) continue;
      const target = byId.get(f.target);
      if (target?.is_leaf && target.requires_grad) {
        if (!now.has(f.target)) set(f.target, null, i); // arriving; AccumulateGrad stores it
        continue;
      }
      receivedAll.add(f.target);
      const prev = now.get(f.target);
      set(f.target, prev ? addValues(prev, f.value) ?? f.value : f.value, i);
    }
  });
  index.gradEvents = events;
  return events;
}

/** Compute what the player needs for every step of this trace now (else the first backward step does). */
export function warmFrames(index) {
  if (index?.trace.backward.length) gradEvents(index);
}

/** A grouped step: the group itself is the active node; what enters it and what leaves it, its inputs and outputs. */
function groupHighlight(index, cur) {
  const nodes = new Map([[cur.group, "active"]]);
  for (const id of cur.io?.inputs ?? []) nodes.set(id, cur.type === "backward" ? "grad-out" : "input");
  for (const id of cur.io?.outputs ?? []) nodes.set(id, cur.type === "backward" ? "grad-in" : "output");
  return { nodes, edges: [] };
}

/** Node and edge roles for the current step: {nodes: Map id->role, edges: [{source, target, role, reverse, value}]}. */
function highlightOf(index, cur) {
  const nodes = new Map();
  const edges = [];
  const { byId } = index;
  if (cur.type === "forward") {
    const op = byId.get(cur.op);
    nodes.set(cur.op, "active");
    op?.inputs.forEach((t) => { nodes.set(t, "input"); edges.push({ source: t, target: cur.op, role: "forward" }); });
    op?.outputs.forEach((t) => { nodes.set(t, "output"); edges.push({ source: cur.op, target: t, role: "forward" }); });
  } else if (cur.type === "backward") {
    const s = cur.step;
    if (s.node) nodes.set(s.node, s.kind === "accumulate" ? "accumulate" : "active");
    s.grad_in_targets?.forEach((t, k) => {
      if (!t || t === s.node) return;
      nodes.set(t, "grad-in");
      // The output edge runs op -> tensor; the gradient travels it backwards.
      if (s.node && byId.get(s.node)?.kind === "op") edges.push({ source: s.node, target: t, role: "grad-in", value: s.grad_in[k] });
    });
    for (const f of s.grads_out) {
      if (!f.target || !s.node) continue;
      if (f.value) nodes.set(f.target, "grad-out");
      edges.push({ source: f.target, target: s.node, role: f.value ? "grad-out" : "no-grad", value: f.value });
    }
  }
  return { nodes, edges };
}

/** Words for the current step, built from the catalogue function `t`. */
export function stepWords(index, timeline, pos, t) {
  const { trace, byId } = index;
  const cur = timeline[pos];
  if (!cur) return t("step.none");
  if (cur.type === "start") return t("step.start", { total: timeline.length - 1 });
  if (cur.type === "end") return t(trace.error ? "step.endFailed" : "step.end");
  const name = (id) => (byId.get(id) ? displayName(byId.get(id)) : "?");
  if (cur.type === "forward") {
    const op = byId.get(cur.op);
    const outs = op.outputs.map((o) => byId.get(o)).filter(Boolean);
    const lhs = outs.map(displayName).join(", ");
    const text = `${lhs} = ${op.source ?? `${op.label}(${op.inputs.map(name).join(", ")})`}`;
    const value = outs.length === 1 ? inlineValue(outs[0].value, { t }) : "";
    return t("step.forward", { i: cur.i + 1, n: trace.forward.length, text, line: op.span?.line, value });
  }
  const s = cur.step;
  const passes = Math.max(trace.passes.length, 1);
  const common = { i: cur.i + 1, n: trace.backward.length, pass: s.pass_index + 1, passes };
  const warn = s.grads_out.some((f) => isNonfinite(f.value)) || (s.kind === "accumulate" && isNonfinite(s.accumulated))
    ? ` ${t("step.nonfinite")}` : "";
  if (s.kind === "accumulate" && !s.failed) {
    return t("step.accumulate", { ...common, name: name(s.node), value: inlineValue(s.accumulated ?? s.grad_in[0], { t }) }) + warn;
  }
  // Gradients are written with the pass's own root (dloss/dw), an unnamed tensor in parentheses, and a
  // value inside one traced call (cross_entropy's inner steps) as that call's inner value.
  const root = rootName(index, s.pass_index);
  const op = s.node ? byId.get(s.node) : null;
  const of = (id, k) => {
    const target = byId.get(id) ?? (s.kind === "op" && op?.kind === "op" ? byId.get(op.outputs[k]) : null);
    return target ? gradSymbol(root, displayName(target)) : t("step.innerValue", { root: symbolName(root), op: op?.label ?? s.grad_fn });
  };
  const arriving = s.grad_in
    .map((g, k) => (g ? `${of(s.grad_in_targets?.[k], k)} = ${inlineValue(g, { t })}` : null))
    .filter(Boolean).join(", ") || t("step.nothing");
  const sent = s.grads_out
    .filter((f) => f.target && f.value)
    .map((f) => `${of(f.target)} = ${inlineValue(f.value, { t })}`)
    .join(", ");
  if (s.failed) return t("step.failed", { ...common, gradFn: s.grad_fn, arriving });
  return t("step.backward", { ...common, gradFn: s.grad_fn, arriving, sent }) + warn;
}

export { fmtNumber };

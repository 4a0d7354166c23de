// A trace as it arrives (contract version 3) made whole: the fields left out because they equal their
// defaults are put back, a one-element tensor gets its min/max/mean (its single number), and the
// edges are derived from each op's inputs and outputs. The rest of the page reads whole traces only.
// A 10,000-op trace holds about 100,000 objects, so each model's filling is prepared once, and a
// default list or dict is a new literal (structuredClone per field cost more than the rest).
import { MODELS } from "./trace-defaults.js";

const whole = new WeakSet();
const fillers = new Map();

/** The same object, completed in place (a trace already completed is returned as it is). */
export function inflateTrace(trace) {
  if (!trace || typeof trace !== "object" || whole.has(trace)) return trace;
  fill(trace, "Trace");
  trace.edges = edgesOf(trace.nodes);
  whole.add(trace);
  return trace;
}

function fill(value, shape) {
  if (value === null || value === undefined || shape === undefined) return;
  if (typeof shape === "string") return fillerOf(shape)(value);
  if (shape.each) { if (Array.isArray(value)) for (const item of value) fill(item, shape.each); return; }
  if (shape.values) { for (const key in value) fill(value[key], shape.values); return; }
  if (shape.kind) fill(value, shape.kind[value.kind]);
}

function fillerOf(name) {
  let filler = fillers.get(name);
  if (!filler) fillers.set(name, (filler = makeFiller(name)));
  return filler;
}

function makeFiller(name) {
  const model = MODELS[name];
  const defaults = Object.entries(model.defaults).map(([field, value]) => [field, fresh(value)]);
  const children = Object.entries(model.children);
  const statistics = name === "TensorValue";
  return (object) => {
    for (const [field, make] of defaults) if (!(field in object)) object[field] = make();
    for (const [field, shape] of children) fill(object[field], shape);
    if (statistics && object.numel === 1 && !object.truncated && object.min == null) {
      object.min = object.max = object.mean = singleNumber(object.data);
    }
  };
}

/** A function making the default anew each time (no two objects share a list). */
function fresh(value) {
  if (Array.isArray(value) && value.length === 0) return () => [];
  if (value !== null && typeof value === "object") {
    return Object.keys(value).length === 0 ? () => ({}) : () => structuredClone(value);
  }
  return () => value;
}

function singleNumber(data) {
  while (Array.isArray(data) && data.length === 1) data = data[0];
  return data;
}

function edgesOf(nodes) {
  const edges = [];
  for (const node of nodes) {
    if (node.kind !== "op") continue;
    node.inputs.forEach((source, index) => edges.push({ source, target: node.id, kind: "input", index }));
    node.outputs.forEach((target, index) => edges.push({ source: node.id, target, kind: "output", index }));
  }
  return edges;
}

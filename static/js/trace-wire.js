// A trace as it arrives (contract version 3) made whole: the fields left out because they equal their
// defaults are put back, a one-element tensor gets its min/max/mean (its single number), and the
// edges are derived from each op's inputs and outputs. The rest of the page reads whole traces only.
import { MODELS } from "./trace-defaults.js";

const whole = new WeakSet();

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
  if (typeof shape === "string") return fillModel(value, shape);
  if (shape.each) return Array.isArray(value) && value.forEach((item) => fill(item, shape.each));
  if (shape.values) return Object.values(value).forEach((item) => fill(item, shape.values));
  if (shape.kind) return fill(value, shape.kind[value.kind]);
}

function fillModel(object, name) {
  const model = MODELS[name];
  for (const [field, value] of Object.entries(model.defaults)) {
    if (!(field in object)) object[field] = value !== null && typeof value === "object" ? structuredClone(value) : value;
  }
  for (const [field, shape] of Object.entries(model.children)) fill(object[field], shape);
  if (name === "TensorValue" && object.numel === 1 && !object.truncated && object.min == null) {
    object.min = object.max = object.mean = singleNumber(object.data);
  }
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

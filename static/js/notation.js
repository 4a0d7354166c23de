// How the page writes gradients, the way the server's explanations do (app/teaching/notation.py):
// d<root>/d<tensor> with the pass's own root (dloss/dw when the program calls loss.backward()), and a
// tensor without a program name written as its expression in parentheses (dJ/d(x * w - y)). Also
// which values hold NaN or ±Inf, so the page can point at them. No DOM here.
import { displayName } from "./model.js";

const SUBSCRIPT_LIMIT = 24; // notation.py _SUBSCRIPT_LIMIT: longer expressions are cut

/** A tensor's name in a formula: an identifier as it is, an expression in parentheses (cut when long). */
export function symbolName(text) {
  if (/^[\p{L}_][\p{L}\p{N}_]*[′″‴]*$/u.test(text)) return text;
  const cut = text.length > SUBSCRIPT_LIMIT ? `${text.slice(0, SUBSCRIPT_LIMIT - 1)}…` : text;
  return `(${cut})`;
}

/** `dJ/de`: the gradient of `root` with respect to `of` (both display names). */
export function gradSymbol(root, of) {
  return `d${symbolName(root)}/d${symbolName(of)}`;
}

/** The display name of the tensor backward() ran from in pass `passIndex` (global number), or "J". */
export function rootName(index, passIndex) {
  const passes = index?.trace.passes ?? [];
  const pass = passes.find((p) => p.index === passIndex) ?? passes[0];
  const node = pass && index.byId.get(pass.root);
  return node ? displayName(node) : "J";
}

const NONFINITE = new Set(["nan", "inf", "-inf"]);

/**
 * Does a TensorValue hold NaN or ±Inf anywhere? Its statistics cover every number, sent or not (a NaN
 * makes min, max and mean NaN, an infinity makes one of them infinite), so only a value without them
 * has its numbers read.
 */
export function isNonfinite(value) {
  if (!value) return false;
  const stats = [value.min, value.max, value.mean];
  if (stats.some((v) => NONFINITE.has(v))) return true;
  if (stats.every((v) => v !== null && v !== undefined)) return false;
  return [value.data].flat(Infinity).some((v) => NONFINITE.has(v));
}

/** Is this one number (as it travels in JSON) NaN or ±Inf? */
export const nonfiniteNumber = (v) => NONFINITE.has(v);

/**
 * The first backward step that sends or stores a NaN/Inf gradient, with the tensor it reaches:
 * {step, target} (step: index into trace.backward), or null when every gradient is finite.
 */
export function firstNonfiniteGrad(trace) {
  for (const [i, s] of trace.backward.entries()) {
    if (s.kind === "accumulate" && isNonfinite(s.accumulated)) return { step: i, target: s.node };
    const f = s.grads_out.find((g) => isNonfinite(g.value));
    if (f) return { step: i, target: f.target };
  }
  return null;
}

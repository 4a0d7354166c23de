// Turning numbers and TensorValues (app/trace_model.py) into short text. Pure functions.

/** A number as it travels in JSON ("nan", "inf", "-inf" for non-finite) to a JS number. */
export function toNumber(v) {
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  if (typeof v === "boolean") return v ? 1 : 0;
  return v;
}

/** Short text for one number: integers as they are, others with up to 4 significant digits. */
export function fmtNumber(v) {
  if (v === null || v === undefined) return "–";
  if (v === "nan") return "nan";
  if (v === "inf") return "inf";
  if (v === "-inf") return "-inf";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (Object.is(v, -0)) return "0";
  if (Number.isInteger(v)) return Math.abs(v) >= 1e6 ? v.toExponential(2) : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}

/** Full-precision text for tables. */
export function fmtFull(v) {
  if (typeof v === "number" && !Number.isInteger(v)) return String(Number(v.toPrecision(7)));
  return fmtNumber(v);
}

function nested(data, fmt) {
  return Array.isArray(data) ? `[${data.map((d) => nested(d, fmt)).join(", ")}]` : fmt(data);
}

/** `[2, 3]`, or the word for a scalar (the catalogue's, with `t`). */
export function shapeText(value, t = null) {
  return value.shape.length ? `[${value.shape.join(", ")}]` : t ? t("inspector.scalar") : "scalar";
}

/**
 * The value as it fits inside a node: the numbers themselves when the tensor is small (and the text
 * short), otherwise shape with min/max/mean (worded by the catalogue's `t` when given).
 */
export function inlineValue(value, { maxChars = 30, withShape = true, t = null } = {}) {
  if (!value) return "";
  if (!value.truncated && value.numel <= 16) {
    const text = nested(value.data, fmtNumber);
    if (text.length <= maxChars) return text;
  }
  const numbers = { min: fmtShort(value.min), max: fmtShort(value.max), mean: fmtShort(value.mean) };
  const stats = t ? t("value.stats", numbers) : `min ${numbers.min} max ${numbers.max} mean ${numbers.mean}`;
  return withShape ? `${shapeText(value, t)} ${stats}` : stats;
}

/** Three significant digits, and values within 1e-6 of zero (float noise in a mean) as 0. */
function fmtShort(v) {
  if (typeof v === "number" && !Number.isInteger(v)) {
    if (Math.abs(v) < 1e-6) return "0";
    return fmtNumber(Number(v.toPrecision(3)));
  }
  return fmtNumber(v);
}

/** Element-wise sum of two TensorValues of the same shape (for gradients arriving from two uses). */
export function addValues(a, b) {
  if (!a) return b;
  if (!b) return a;
  if (a.truncated || b.truncated || a.shape.join() !== b.shape.join()) return null;
  const add = (x, y) => (Array.isArray(x) ? x.map((xi, i) => add(xi, y[i])) : toNumber(x) + toNumber(y));
  const data = add(a.data, b.data);
  const flat = [data].flat(Infinity);
  return {
    ...a,
    data,
    min: Math.min(...flat),
    max: Math.max(...flat),
    mean: flat.reduce((s, x) => s + x, 0) / flat.length,
  };
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// A parameter over the passes, in the inspector: its value and its gradient (PassSummary.values and
// .grads, the mean when it has several elements) as two small plots, the shown pass marked.
// Hovering a plot says the pass and the number; a click shows that pass.
import * as d3 from "../vendor/d3/d3.js";
import { toNumber, fmtNumber, escapeHtml as h } from "./format.js";

const W = 240;
const H = 46;
const PAD = 4;

/** Which of `summary_params` a tensor node is (by its program names), or -1. */
export function paramIndex(trace, node) {
  if (node?.kind !== "tensor" || node.role !== "param") return -1;
  const names = [node.name, ...(node.names ?? [])].filter(Boolean);
  return (trace.summary_params ?? []).findIndex((p) => names.includes(p.name));
}

/** A series whose largest magnitude is a hundred times its median one is drawn on a symmetric log scale. */
function spread(finite) {
  const sizes = finite.map(Math.abs).sort((a, b) => a - b);
  const median = sizes[sizes.length >> 1];
  return median > 0 && sizes[sizes.length - 1] / median > 100 ? median : 0;
}

function sparkline(series, { passes, shown, cls, label }) {
  const values = series.map(toNumber);
  const finite = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  if (!finite.length) return "";
  let [lo, hi] = d3.extent(finite);
  if (lo === hi) { lo -= Math.abs(lo) || 1; hi += Math.abs(hi) || 1; }
  const x = d3.scaleLinear().domain([0, Math.max(values.length - 1, 1)]).range([PAD, W - PAD]);
  const constant = spread(finite);
  const y = (constant ? d3.scaleSymlog().constant(constant) : d3.scaleLinear()).domain([lo, hi]).range([H - PAD, PAD]);
  const line = d3.line().defined((v) => v !== null && v !== undefined && Number.isFinite(v)).x((_, i) => x(i)).y((v) => y(v));
  const k = passes.indexOf(shown);
  const dot = k >= 0 && Number.isFinite(values[k]) ? `<circle class="spark-shown" cx="${x(k)}" cy="${y(values[k])}" r="3.5"/>` : "";
  const zero = lo < 0 && hi > 0 ? `<line class="spark-zero" x1="${PAD}" x2="${W - PAD}" y1="${y(0)}" y2="${y(0)}"/>` : "";
  const bad = values.map((v, i) => (v !== null && v !== undefined && !Number.isFinite(v) ? `<line class="spark-nonfinite" x1="${x(i)}" x2="${x(i)}" y1="0" y2="${H}"/>` : "")).join("");
  return `<svg class="sparkline ${cls}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${h(label)}" data-n="${values.length}">` +
    `${bad}${zero}<path d="${line(values)}"/>${dot}<rect class="spark-hit" width="${W}" height="${H}" fill="transparent"/></svg>`;
}

/**
 * The section for a selected parameter (Trace.summaries, Trace.summary_params): value and gradient
 * plots with the range of each, or "" when the node is not a summarised parameter.
 */
export function paramPlotsHtml(trace, node, shown, t) {
  const j = paramIndex(trace, node);
  const summaries = trace.summaries ?? [];
  if (j < 0 || summaries.length < 2) return "";
  const numel = trace.summary_params[j].numel;
  const passes = summaries.map((s) => s.index);
  const at = summaries.findIndex((s) => s.index === shown);
  const plot = (field, cls, key) => {
    const series = summaries.map((s) => s[field][j] ?? null);
    const finite = series.map(toNumber).filter((v) => v !== null && Number.isFinite(v));
    if (!finite.length) return "";
    const label = t(key, { numel });
    const nowText = t("plots.at", { pass: shown + 1, value: fmtNumber(at >= 0 ? series[at] : null) });
    const range = t("plots.range", { min: fmtNumber(d3.min(finite)), max: fmtNumber(d3.max(finite)) }) +
      (spread(finite) ? ` · ${t("plots.symlog")}` : "");
    return `<figure class="param-plot" data-field="${field}"><figcaption><span class="${cls === "grad" ? "grad-colour" : ""}">${h(label)}</span>` +
      ` <span class="plot-now" data-now="${h(nowText)}">${h(nowText)}</span></figcaption>` +
      `${sparkline(series, { passes, shown, cls, label })}<p class="plot-range muted">${h(range)}</p></figure>`;
  };
  return `<section class="param-plots" data-param="${j}"><h4>${h(t("plots.title", { n: summaries.length }))}</h4>` +
    plot("values", "value", "plots.value") + plot("grads", "grad", "plots.grad") +
    `<p class="note">${h(t("plots.hint"))}</p></section>`;
}

/** Hover and click on the plots inside `el`: `onPick(pass)` shows a pass. Bound once per element. */
export function bindParamPlots(el, { getTrace, onPick, t }) {
  const passAt = (event) => {
    const svg = event.target.closest?.("svg.sparkline");
    const trace = getTrace();
    if (!svg || !trace) return null;
    const box = svg.getBoundingClientRect();
    const n = Number(svg.dataset.n);
    const i = Math.round(((event.clientX - box.left) / box.width * W - PAD) / (W - 2 * PAD) * (n - 1));
    return { svg, i: Math.max(0, Math.min(n - 1, i)), trace };
  };
  el.addEventListener("mousemove", (event) => {
    const hit = passAt(event);
    if (!hit) return;
    const figure = hit.svg.closest("figure");
    const field = figure.dataset.field;
    const j = Number(el.querySelector(".param-plots")?.dataset.param ?? -1);
    const s = hit.trace.summaries[hit.i];
    const value = j >= 0 ? s?.[field]?.[j] : null;
    figure.querySelector(".plot-now").textContent = t("plots.at", { pass: s.index + 1, value: fmtNumber(value ?? null) });
  });
  el.addEventListener("mouseout", (event) => {
    const svg = event.target.closest?.("svg.sparkline");
    if (!svg || svg.contains(event.relatedTarget)) return;
    const now = svg.closest("figure").querySelector(".plot-now");
    now.textContent = now.dataset.now;
  });
  el.addEventListener("click", (event) => {
    const hit = passAt(event);
    if (hit) onPick(hit.trace.summaries[hit.i].index);
  });
}

// The loss curve of a training loop: one point per backward pass (PassSummary.loss), D3 scales and
// axes, a log-scale option, the passes recorded in full ringed, the pass shown on the graph marked,
// NaN/Inf passes in red along the top. Hovering says the pass and its loss; a click picks the pass.
import * as d3 from "../vendor/d3/d3.js";
import { toNumber, fmtNumber, escapeHtml as h } from "./format.js";

const MARGIN = { top: 16, right: 16, bottom: 22, left: 58 };

/** Whether every finite loss is above zero (a log axis can show them all). */
export function logPossible(summaries) {
  const finite = summaries.map((s) => toNumber(s.loss)).filter((v) => Number.isFinite(v));
  return finite.length > 0 && finite.every((v) => v > 0);
}

/** Log by default when the losses span three orders of magnitude or more. */
export function logByDefault(summaries) {
  if (!logPossible(summaries)) return false;
  const finite = summaries.map((s) => toNumber(s.loss)).filter((v) => Number.isFinite(v));
  return d3.max(finite) / d3.min(finite) >= 1e3;
}

/** Short axis labels: 220k, 1e20, 1e−5; the same text a node shows otherwise. */
function tickText(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e15 || a < 1e-3) return d3.format(".2~e")(v).replace("e+", "e").replace("e-", "e\u2212");
  if (a >= 1e4) return d3.format(".3~s")(v);
  return fmtNumber(Number(v.toPrecision(3)));
}

/** At most `count` + 1 ticks: powers of ten on a log axis (every few decades when there are many). */
function yTicks(y, log, count) {
  if (!log) return y.ticks(count);
  const [lo, hi] = y.domain();
  const first = Math.ceil(Math.log10(lo) - 1e-9);
  const last = Math.floor(Math.log10(hi) + 1e-9);
  if (last < first) return y.ticks(count).filter((_, i, all) => i % Math.ceil(all.length / (count + 1)) === 0);
  const step = Math.max(1, Math.ceil((last - first + 1) / (count + 1)));
  const ticks = [];
  for (let e = last; e >= first; e -= step) ticks.unshift(10 ** e);
  return ticks;
}

export function createLossChart(container, { onPick, t }) {
  const svg = d3.select(container).append("svg").attr("class", "loss-svg").attr("role", "img");
  const plot = svg.append("g").attr("class", "plot");
  const band = plot.append("g").attr("class", "bands");
  const xAxis = plot.append("g").attr("class", "axis x-axis");
  const yAxis = plot.append("g").attr("class", "axis y-axis");
  const xLabel = plot.append("text").attr("class", "axis-label").attr("text-anchor", "start");
  const yLabel = plot.append("text").attr("class", "axis-label").attr("text-anchor", "start");
  const path = plot.append("path").attr("class", "loss-line");
  const points = plot.append("g").attr("class", "points");
  const marks = plot.append("g").attr("class", "marks");
  const shownRule = plot.append("line").attr("class", "shown-rule");
  const hover = plot.append("g").attr("class", "hover").style("display", "none");
  hover.append("line").attr("class", "hover-rule");
  hover.append("circle").attr("r", 4.5);
  const overlay = plot.append("rect").attr("class", "overlay");
  const tip = d3.select(container).append("div").attr("class", "loss-tip").attr("role", "status").style("display", "none");
  let state = null;

  function nearest(event) {
    const [mx] = d3.pointer(event, plot.node());
    const k = Math.round(state.x.invert(mx)) - 1;
    return Math.max(0, Math.min(state.summaries.length - 1, k));
  }

  overlay
    .on("mousemove", (event) => showHover(nearest(event)))
    .on("mouseleave", () => { hover.style("display", "none"); tip.style("display", "none"); })
    .on("click", (event) => onPick(state.summaries[nearest(event)].index));

  function showHover(k) {
    const { x, y, summaries, height, width } = state;
    const s = summaries[k];
    const v = toNumber(s.loss);
    const cy = Number.isFinite(v) ? y(v) : 0;
    hover.style("display", null);
    hover.select("line").attr("x1", x(k + 1)).attr("x2", x(k + 1)).attr("y1", 0).attr("y2", height);
    hover.select("circle").attr("cx", x(k + 1)).attr("cy", cy).classed("nonfinite", !Number.isFinite(v));
    const what = s.detailed ? t("training.hoverDetailed") : t("training.hoverSummary");
    const bad = s.nonfinite || !Number.isFinite(v) ? ` · ${t("training.nonfinite")}` : "";
    tip.style("display", null).html(`<strong>${h(t("training.hover", { pass: s.index + 1, loss: fmtNumber(s.loss) }))}</strong>${h(bad)}<br><span class="muted">${h(what)}</span>`);
    const left = MARGIN.left + x(k + 1);
    const tipWidth = tip.node().offsetWidth;
    tip.style("left", `${Math.max(4, Math.min(left - tipWidth / 2, MARGIN.left + width - tipWidth))}px`).style("top", "2px");
  }

  /** Draw `summaries` (every pass), ringing `detailed` (Set of pass numbers), marking pass `shown`. */
  function render({ summaries, detailed, shown, log }) {
    const box = container.getBoundingClientRect();
    const W = Math.max(200, box.width);
    const H = Math.max(90, box.height);
    const width = W - MARGIN.left - MARGIN.right;
    const height = H - MARGIN.top - MARGIN.bottom;
    svg.attr("width", W).attr("height", H).attr("viewBox", `0 0 ${W} ${H}`);
    plot.attr("transform", `translate(${MARGIN.left},${MARGIN.top})`);
    const n = summaries.length;
    const losses = summaries.map((s) => toNumber(s.loss));
    const finite = losses.filter((v) => Number.isFinite(v));
    const useLog = log && logPossible(summaries);
    const x = d3.scaleLinear().domain([1, Math.max(n, 2)]).range([0, width]);
    let [lo, hi] = finite.length ? d3.extent(finite) : [0, 1];
    if (lo === hi) { lo = useLog ? lo / 2 : lo - 1; hi = useLog ? hi * 2 : hi + 1; }
    const pad = (hi - lo) * 0.06;
    const y = useLog ? d3.scaleLog().domain([lo, hi]).range([height, 0]) : d3.scaleLinear().domain([lo - pad, hi + pad]).range([height, 0]);
    const yCount = Math.max(2, Math.min(5, Math.floor(height / 24)));
    if (useLog) y.nice();
    state = { x, y, summaries, height, width };

    const xTicks = Math.max(2, Math.min(10, Math.floor(width / 80)));
    xAxis.attr("transform", `translate(0,${height})`)
      .call(d3.axisBottom(x).ticks(xTicks).tickFormat((v) => (Number.isInteger(v) ? d3.format("d")(v) : "")));
    yAxis.call(d3.axisLeft(y).tickValues(yTicks(y, useLog, yCount)).tickFormat(tickText).tickSizeOuter(0));
    yAxis.selectAll(".grid").remove();
    yAxis.selectAll(".tick").append("line").attr("class", "grid").attr("x2", width);
    // Axis names in the left margin: "loss" above the y axis, "pass" on the x axis's line of numbers.
    xLabel.attr("x", -MARGIN.left + 4).attr("y", height + 17).text(`${t("training.axisPass")} →`);
    yLabel.attr("x", -MARGIN.left + 4).attr("y", -6).text(t("training.axisLoss"));

    const at = (k) => x(k + 1);
    const line = d3.line().defined((v) => Number.isFinite(v)).x((_, k) => at(k)).y((v) => y(v));
    path.attr("d", line(losses));
    const r = n > 400 ? 1.6 : n > 100 ? 2.2 : 3;
    points.selectAll("circle")
      .data(summaries.map((s, k) => ({ s, k, v: losses[k] })).filter((d) => Number.isFinite(d.v)), (d) => d.k)
      .join("circle")
      .attr("class", (d) => `pass-point${d.s.nonfinite ? " nonfinite" : ""}`)
      .attr("data-pass", (d) => d.s.index)
      .attr("cx", (d) => at(d.k)).attr("cy", (d) => y(d.v)).attr("r", r);
    // NaN / Inf: a red band across the chart and a cross at the top, where no value can be drawn.
    const bad = summaries.map((s, k) => ({ s, k, v: losses[k] })).filter((d) => d.s.nonfinite || !Number.isFinite(d.v));
    const bw = Math.max(2, width / Math.max(n, 1));
    band.selectAll("rect").data(bad, (d) => d.k).join("rect").attr("class", "nonfinite-band")
      .attr("x", (d) => at(d.k) - bw / 2).attr("width", bw).attr("y", 0).attr("height", height);
    marks.selectAll("path.nonfinite-mark").data(bad.filter((d) => !Number.isFinite(d.v)), (d) => d.k)
      .join("path").attr("class", "nonfinite-mark pass-point").attr("data-pass", (d) => d.s.index)
      .attr("d", (d) => `M${at(d.k) - 4},-4L${at(d.k) + 4},4M${at(d.k) - 4},4L${at(d.k) + 4},-4`);
    const yOf = (d) => (Number.isFinite(d.v) ? y(d.v) : 0);
    marks.selectAll("circle.detailed").data(summaries.map((s, k) => ({ s, k, v: losses[k] })).filter((d) => detailed.has(d.s.index)), (d) => d.k)
      .join("circle").attr("class", (d) => `detailed${d.s.index === shown ? " shown" : ""}`)
      .attr("data-pass", (d) => d.s.index)
      .attr("cx", (d) => at(d.k)).attr("cy", yOf).attr("r", (d) => (d.s.index === shown ? 6 : 4.5));
    const k = summaries.findIndex((s) => s.index === shown);
    shownRule.style("display", k < 0 ? "none" : null).attr("x1", at(k)).attr("x2", at(k)).attr("y1", 0).attr("y2", height);
    overlay.attr("width", width + 8).attr("x", -4).attr("height", height + 10).attr("y", -6);
    svg.attr("aria-label", t("training.chartLabel", { n, first: fmtNumber(summaries[0]?.loss), last: fmtNumber(summaries[n - 1]?.loss) }));
    marks.raise();
    shownRule.raise();
    hover.raise();
    overlay.raise();
  }

  return { render, hideTip: () => { hover.style("display", "none"); tip.style("display", "none"); } };
}

// The page side of a training loop: the loss strip above the graph (the pass shown, its loss, the
// previous and next pass, the log scale, the chart), which pass the graph shows, fetching a pass in
// full when it was only summarised (a new trace with `passes: [k, ...]`), keeping the layout when the
// next pass's graph has the same shape, and the parameter plots in the inspector.
import { indexTrace, nodeLines } from "./model.js";
import { sizeNode } from "./scene.js";
import { fmtNumber, escapeHtml as h } from "./format.js";
import { isTraining, detailedPasses, passView, passTimeline, nodeKeys, shapeOf, updateLines } from "./passes.js";
import { createLossChart, logPossible, logByDefault } from "./loss-chart.js";
import { paramPlotsHtml, bindParamPlots } from "./param-plots.js";
import { errorWords } from "./i18n/index.js";

const MAX_ASKED = 16; // POST /api/trace takes at most 16 passes to record in full

const keyCache = new WeakMap();
/** nodeKeys of a trace, once per trace object. */
function keysOf(trace) {
  if (!keyCache.has(trace)) keyCache.set(trace, nodeKeys(trace));
  return keyCache.get(trace);
}

export function createTraining(el, { store, t, requestTrace, canRequest = () => true }) {
  const S = () => store.get();
  let full = null;        // the whole trace of a training loop (null: not a training loop)
  let source = "";        // the program it came from
  let shown = null;       // the pass the graph shows
  let asked = [];         // passes asked for in full, oldest first
  let log = null;         // the log-scale choice (null: the default for these losses)
  let fetching = null;    // the pass being fetched
  let views = new Map();  // pass -> passView, for the trace in `full`
  let lastLayout = null;  // {shape, byKey, edges, width, height, rankdir}

  el.innerHTML = `<div class="training-head">
      <h3 id="training-title" class="training-title" data-i18n="training.title"></h3>
      <button type="button" class="pass-prev" data-i18n-title="training.prev">‹</button>
      <label class="pass-pick"><span data-i18n="training.pass"></span>
        <input class="pass-input" type="number" min="1" step="1" inputmode="numeric" data-i18n-title="training.passInput"></label>
      <span class="pass-total"></span>
      <button type="button" class="pass-next" data-i18n-title="training.next">›</button>
      <span class="pass-info" aria-live="polite"></span>
      <span class="spacer"></span>
      <label class="toggle log-toggle"><input class="log-input" type="checkbox"> <span data-i18n="training.log"></span></label>
      <button type="button" class="chart-toggle" aria-expanded="true"></button>
    </div>
    <div class="loss-chart"></div>`;
  const $ = (sel) => el.querySelector(sel);
  const chart = createLossChart($(".loss-chart"), { onPick: (k) => show(k), t });
  $(".pass-prev").addEventListener("click", () => shown !== null && show(shown - 1));
  $(".pass-next").addEventListener("click", () => shown !== null && show(shown + 1));
  $(".pass-input").addEventListener("change", (event) => {
    const k = Math.round(Number(event.target.value)) - 1;
    if (Number.isFinite(k)) show(k);
  });
  $(".log-input").addEventListener("change", (event) => { log = event.target.checked; render(); });
  // The chart folds away to give the graph its height back (the graph fits itself to the new size).
  $(".chart-toggle").addEventListener("click", () => {
    const open = $(".chart-toggle").getAttribute("aria-expanded") !== "true";
    $(".chart-toggle").setAttribute("aria-expanded", String(open));
    el.classList.toggle("folded", !open);
    render();
    window.dispatchEvent(new Event("resize"));
  });
  new ResizeObserver(() => { if (full) render(); }).observe($(".loss-chart"));

  function view(k) {
    if (!views.has(k)) views.set(k, passView(full, k));
    return views.get(k);
  }

  /** A new trace from the server: what the graph should show (one pass of a training loop, else all). */
  function load(trace, from) {
    const same = full && from === source;
    const detailed = detailedPasses(trace);
    if (!isTraining(trace) || !detailed.length) {
      full = null;
      el.hidden = true;
      return trace;
    }
    if (!same) { asked = []; log = null; lastLayout = null; }
    full = trace;
    source = from;
    views = new Map();
    shown = same && detailed.includes(shown) ? shown : detailed[0];
    el.hidden = false;
    render();
    return view(shown);
  }

  /** Show pass `k`: at once when it is recorded in full, else after a new trace that records it. */
  async function show(k) {
    if (!full || k < 0 || k >= full.summaries.length) { render(); return; }
    if (detailedPasses(full).includes(k)) { pick(k); return; }
    if (fetching !== null) return;
    if (!canRequest()) { store.update({ status: t("training.summaryOnly", { pass: k + 1 }) }); render(); return; }
    fetching = k;
    asked = [...asked.filter((p) => p !== k), k].slice(-MAX_ASKED);
    render();
    const from = source;
    const result = await requestTrace(from, asked);
    fetching = null;
    if (from !== source || !full) return;
    if (!result.trace || !detailedPasses(result.trace).includes(k)) {
      store.update({ status: t("training.fetchFailed", { pass: k + 1, message: failureWords(result.error) }) });
      render();
      return;
    }
    full = result.trace;
    views = new Map();
    pick(k);
  }

  /** Why a pass could not be fetched, in the reader's language: Grafo's message, else the kind of failure. */
  const failureWords = (error) => (error ? errorWords(error, `${t(`error.kind.${error.kind}`)}.`) : "");

  function pick(k) {
    const s = S();
    const before = s.index;
    shown = k;
    const next = view(k);
    const index = indexTrace(next);
    const timeline = passTimeline(next);
    // The same step of another pass, and the same node selected, when the graphs have the same shape.
    const sameSteps = s.timeline.length === timeline.length;
    let selected = null;
    if (before && s.selected) {
      const key = keysOf(before.trace).get(s.selected);
      for (const [id, other] of keysOf(next)) if (other === key) selected = id;
    }
    render();
    store.update({ index, timeline, pos: sameSteps ? s.pos : timeline.length - 1, selected, playing: false });
  }

  function render() {
    if (!full) return;
    const n = full.summaries.length;
    const summary = full.summaries.find((s) => s.index === shown);
    const canLog = logPossible(full.summaries);
    const useLog = canLog && (log ?? logByDefault(full.summaries));
    $(".log-input").checked = useLog;
    $(".log-input").disabled = !canLog;
    $(".log-toggle").title = canLog ? t("training.logTitle") : t("training.logDisabled");
    $(".pass-input").max = String(n);
    $(".pass-input").value = String((fetching ?? shown) + 1);
    $(".pass-total").textContent = t("training.of", { n });
    $(".pass-prev").disabled = shown === null || shown <= 0 || fetching !== null;
    $(".pass-next").disabled = shown === null || shown >= n - 1 || fetching !== null;
    const info = [];
    if (fetching !== null) info.push(`<span class="fetching">${h(t("training.fetching", { pass: fetching + 1 }))}</span>`);
    else if (summary) {
      info.push(`<span class="pass-loss">${h(t("training.loss", { loss: fmtNumber(summary.loss) }))}</span>`);
      if (summary.nonfinite) info.push(`<span class="nonfinite-badge">${h(t("training.nonfinite"))}</span>`);
      if (full.stats?.runs === 2) info.push(`<span class="muted" title="${h(t("training.secondRunTitle"))}">${h(t("training.secondRun"))}</span>`);
    }
    $(".pass-info").innerHTML = info.join(" ");
    const open = !el.classList.contains("folded");
    $(".chart-toggle").textContent = open ? "▴" : "▾";
    $(".chart-toggle").title = t(open ? "training.hideChart" : "training.showChart");
    $(".chart-toggle").setAttribute("aria-label", $(".chart-toggle").title);
    el.classList.toggle("busy", fetching !== null);
    if (open) chart.render({ summaries: full.summaries, detailed: new Set(detailedPasses(full)), shown: fetching ?? shown, log: useLog });
  }

  // ---- layout: every detailed pass fits the same boxes; the same shape keeps its positions -------

  /**
   * Room per node key for every detailed pass (its values, and its parameters' values after the
   * updates), computed once per trace and text scale: callers may ask node by node.
   */
  let room = null; // {full, scale, sizes}
  function roomFor(m) {
    if (room?.full === full && room.scale === m.scale) return room.sizes;
    const sizes = new Map();
    for (const k of detailedPasses(full)) {
      const v = view(k);
      if (!v) continue;
      const keys = keysOf(v);
      const timeline = passTimeline(v);
      const changed = updateLines(indexTrace(v), timeline, timeline.length - 1, source);
      for (const node of v.nodes) {
        if (node.kind !== "tensor") continue;
        const lines = nodeLines(node, null, v.backward.length > 0, t);
        const over = changed.get(node.id);
        for (const l of over ? [lines, { ...lines, ...over }] : [lines]) {
          const size = sizeNode(node, l, m);
          const key = keys.get(node.id);
          const was = sizes.get(key);
          sizes.set(key, was ? { w: Math.max(was.w, size.w), h: Math.max(was.h, size.h) } : size);
        }
      }
    }
    room = { full, scale: m.scale, sizes };
    return sizes;
  }

  /** Scene nodes widened so that the same node of every detailed pass (and its updated value) fits. */
  function fitNodes(nodes, index, m) {
    if (!full) return nodes;
    const sizes = roomFor(m);
    const keys = keysOf(index.trace);
    return nodes.map((n) => {
      const size = sizes.get(keys.get(n.id));
      return size && n.kind === "tensor" ? { ...n, w: Math.max(n.w, size.w), h: Math.max(n.h, size.h) } : n;
    });
  }

  /** The last layout again, for a graph of the same shape whose nodes fit its boxes; else null. */
  function reuseLayout(nodes, edges, index, scale) {
    if (!full || !lastLayout) return null;
    const keys = keysOf(index.trace);
    if (shapeOf(keys, nodes.map((n) => n.id), edges, scale) !== lastLayout.shape) return null;
    const placed = nodes.map((n) => ({ n, at: lastLayout.byKey.get(keys.get(n.id)) }));
    if (placed.some(({ n, at }) => !at || n.w > at.w || n.h > at.h)) return null;
    const idOf = new Map(nodes.map((n) => [keys.get(n.id), n.id]));
    for (const { n, at } of placed) { n.w = at.w; n.h = at.h; }
    return {
      positions: new Map(placed.map(({ n, at }) => [n.id, { x: at.x, y: at.y }])),
      edges: lastLayout.edges.map((e) => ({ ...e, source: idOf.get(e.source), target: idOf.get(e.target) })),
      width: lastLayout.width, height: lastLayout.height, rankdir: lastLayout.rankdir, ms: 0, reused: true,
    };
  }

  /** Remember a layout (by node keys) so that the next pass of the same shape can have it. */
  function remember(nodes, laid, index, scale) {
    if (!full) { lastLayout = null; return; }
    const keys = keysOf(index.trace);
    lastLayout = {
      shape: shapeOf(keys, nodes.map((n) => n.id), laid.edges, scale),
      byKey: new Map(nodes.map((n) => [keys.get(n.id), { ...laid.positions.get(n.id), w: n.w, h: n.h }])),
      edges: laid.edges.map((e) => ({ ...e, source: keys.get(e.source), target: keys.get(e.target) })),
      width: laid.width, height: laid.height, rankdir: laid.rankdir,
    };
  }

  // ---- the inspector: a parameter over the passes ------------------------------------------------

  function renderParamPlots(panel, { index, selected }) {
    if (!full || !index || !selected) return;
    const html = paramPlotsHtml(full, index.byId.get(selected), shown, t);
    if (html) (panel.querySelector("table.props") ?? panel.lastElementChild)?.insertAdjacentHTML("afterend", html);
  }

  return {
    load, show, render, fitNodes, reuseLayout, remember, renderParamPlots,
    bindParamPlots: (panel) => bindParamPlots(panel, { getTrace: () => full, onPick: show, t }),
    shown: () => (full ? shown : null),
    active: () => !!full,
  };
}

// Wires the page: state store, editor, API, layout worker, graph renderer, player, inspector, panels,
// URL state and export. Each concern lives in its own module; this one only connects them.
import { createStore, initialState } from "./state.js";
import { t, message, errorWords, translatePage, setLanguage, initialLanguage, rememberLanguage, exampleText } from "./i18n/index.js";
import { traceProgram, fetchExamples } from "./api.js";
import { inflateTrace } from "./trace-wire.js";
import { indexTrace, stepWords } from "./model.js";
import { createGraphPane } from "./graph-pane.js";
import { groupTimeline, positionOf, groupStepWords } from "./group-steps.js";
import { groupLabel } from "./group-lines.js";
import { createSearch } from "./search.js";
import { renderGroupInspector } from "./group-inspector.js";
import { createEditor } from "./editor.js";
import { bindPlayer } from "./player.js";
import { renderInspector } from "./inspector.js";
import { renderConsole, renderWarnings } from "./panels.js";
import { renderGradcheckView, bindGradcheckView } from "./gradcheck-view.js";
import { renderExplanation } from "./explain.js";
import { renderBackpropTable } from "./backprop-table.js";
import { decodeLink, encodeProgram, encodeView, shareUrl } from "./share.js";
import { renderNotices } from "./notices.js";
import { exportAs } from "./export.js";
import { escapeHtml as h } from "./format.js";
import { createTraining } from "./training.js";
import { passTimeline, stepFrame, updateLines, nodeKeys } from "./passes.js";
import { updateWords, updateHtml } from "./update-step.js";

// The lesson's program, from the server's first example (one copy of it, in app/examples.py).
const LESSON = JSON.parse(document.getElementById("lesson-source").textContent);

const $ = (id) => document.getElementById(id);
const store = createStore({ ...initialState, source: LESSON, lang: setLanguage(initialLanguage()) });
translatePage();
const S = () => store.get();
// Timing marks for tests and bench/browser_render.py.
const perf = (window.__grafo = { marks: {}, layouts: 0, painted: 0 });

// ---- editor -----------------------------------------------------------------------------------
const editor = createEditor($("editor"), {
  doc: LESSON,
  label: t("editor.title"),
  onRun: () => runTrace(),
  onCursorLine: (line) => store.update({ lineSelection: line, selected: firstNodeOnLine(line) }),
});

function firstNodeOnLine(line) {
  const index = S().index;
  if (!index) return null;
  const onLine = index.trace.nodes.filter((n) => n.span && n.span.line === line);
  return (onLine.find((n) => n.kind === "op") ?? onLine[0])?.id ?? null;
}

// ---- graph ------------------------------------------------------------------------------------
// The pane groups the trace, lays the open groups out in a worker and draws them (graph-pane.js). The
// steps inside a collapsed group are one step of the player (group-steps.js), so the timeline is
// regrouped whenever a group opens or closes; `rawTimeline` is the one the trace gave.
let rawTimeline = [];
let intoNext = false;
const pane = createGraphPane($("graph"), {
  t, perf,
  // A click in the graph opens the inspector, unless the hand backprop table is open: it highlights the row.
  onSelect: (id) => store.update({ selected: id, lineSelection: null, tab: id && S().tab !== "backprop" ? "inspector" : S().tab }),
  onActivate: (id) => store.update({ selected: id, lineSelection: null, tab: "inspector" }),
  onStatus: (status) => store.update({ status }),
  onExpanded: (tree, expanded) => {
    const s = S();
    const timeline = groupTimeline(rawTimeline, tree, expanded);
    const pos = positionOf(timeline, s.timeline[s.pos], { into: intoNext });
    intoNext = false;
    store.update({ timeline, pos });
  },
  // A training loop's pass: boxes that fit every detailed pass (training.js).
  fitNodes: (nodes, index, m) => training.fitNodes(nodes, index, m),
  // A training loop's passes: the same place in another pass has the same key, so the same layout.
  nodeKeys: (trace) => (training.shown() !== null ? nodeKeys(trace) : null),
});

perf.pane = pane; // for tests and bench/browser_render.py: the scene, the camera, the groups

/** The current step is a collapsed group's: open it and show its first step. */
function stepInto() {
  const cur = S().timeline[S().pos];
  if (!cur?.group) return;
  intoNext = true;
  pane.setExpanded(new Set([...pane.expanded(), cur.group]), { keep: cur.group });
}

// ---- training loops: the loss strip, one pass at a time (training.js) ------------------------------
const training = createTraining($("training"), {
  store, t, requestTrace: (source, passes) => traceProgram(source, { eps: S().eps, passes }),
  canRequest: () => !viewer, // a given trace (python -m app open) has no program to run again
});
training.bindParamPlots($("panel-inspector"));

// ---- tracing ----------------------------------------------------------------------------------
async function runTrace(source = editor.getText()) {
  if (viewer) return;
  store.update({ busy: true, status: { key: "trace.running" }, playing: false });
  const started = performance.now();
  const result = await traceProgram(source, { eps: S().eps });
  perf.marks.response = performance.now();
  // The answer was parsed in this task; what the page does with it runs in the next one.
  await new Promise((resolve) => setTimeout(resolve, 0));
  // A program that failed part way sends what it did until then: its own graph is shown, with the
  // player on the backward step that failed and that op selected (else at the end: where and why it stopped).
  const partial = result.error && result.trace?.nodes?.length ? result.trace : null;
  if (result.error && !partial) {
    const e = result.error;
    editor.showError({ line: e.line, col: e.col, message: errorWords(e) });
    store.update({ busy: false, error: { ...e, hint: e.hint ?? null }, status: "", partial: false });
    return;
  }
  if (partial) editor.showError({ line: result.error.line, col: result.error.col, message: errorWords(result.error) });
  else editor.clearError();
  const shown = training.load(result.trace, source);
  const index = indexTrace(shown);
  const timeline = passTimeline(shown);
  const failedAt = partial ? timeline.findIndex((e) => e.type === "backward" && e.step.failed) : -1;
  const pos = failedAt >= 0 ? failedAt : timeline.length - 1; // else the end: "after the error", and why
  store.update({
    busy: false, error: partial ? { ...result.error, hint: result.error.hint ?? null } : null, partial: !!partial,
    source, index, timeline, pos, gradcheck: result.trace.gradcheck,
    selected: failedAt >= 0 ? timeline[failedAt].step.node : null, lineSelection: null,
    status: { key: partial ? "trace.stopped" : "trace.done", args: { ops: result.trace.stats.ops, tensors: result.trace.stats.tensors, ms: Math.round(performance.now() - started) } },
  });
  programHash = { source, hash: await encodeProgram(source) };
  syncAddress();
}

// ---- the address bar: the program, and the step, selection, eps and language shown -------------
let programHash = null; // {source, hash}: the program's part of the fragment, encoded once per program
let addressTimer = 0;
/** Write the address now, or once the player rests (`wait` ms: browsers throttle a burst of history changes). */
function syncAddress(wait = 0) {
  clearTimeout(addressTimer);
  const write = () => {
    const { source, pos, selected, eps, lang, index } = S();
    if (viewer || !index || programHash?.source !== source) return;
    const view = encodeView({ pos, selected, eps, lang });
    history.replaceState(null, "", `#${programHash.hash}${view ? `&${view}` : ""}`);
  };
  if (wait) addressTimer = setTimeout(write, wait); else write();
}

/** The gradient check again with another eps: a new trace of the same program; only the check is kept. */
async function recheck(eps) {
  const { source, index } = S();
  if (viewer || !index || eps === S().eps) return;
  store.update({ eps, gradcheckBusy: true });
  const result = await traceProgram(source, { eps });
  if (S().source !== source) return;
  store.update({ gradcheckBusy: false, ...(result.error ? { status: { text: errorWords(result.error) } } : { gradcheck: result.trace.gradcheck }) });
}

// ---- a trace given to the page: `python -m app open`, saved HTML, notebooks ---------------------
// {trace, source} embedded as <script type="application/json" id="grafo-given">, or fetched from the
// URL in ?trace=. The page then only shows it (no program to run): Trace, examples and share hide.
let viewer = false;
async function givenTrace() {
  const embedded = $("grafo-given");
  const url = new URLSearchParams(location.search).get("trace");
  try {
    if (embedded) return JSON.parse(embedded.textContent);
    if (url) { const response = await fetch(url); if (response.ok) return await response.json(); }
  } catch { /* neither: the page traces its own program */ }
  return null;
}

function showGiven({ trace, source = "" }) {
  viewer = true;
  for (const el of [$("btn-trace"), $("btn-share"), document.querySelector(".examples")]) el.style.display = "none";
  editor.setText(source);
  window.__grafoLoadTrace(trace, source);
}

/** Load a trace object directly (the benchmark uses this to time rendering alone). */
window.__grafoLoadTrace = (trace, source = "") => {
  perf.marks.response = performance.now();
  inflateTrace(trace);  // a trace given to the page arrives as sent (the API's traces already are whole)
  const shown = training.load(trace, source);
  const timeline = passTimeline(shown);
  store.update({ error: null, source, index: indexTrace(shown), timeline, pos: timeline.length - 1, selected: null, gradcheck: trace.gradcheck });
};

// ---- per-step decoration ----------------------------------------------------------------------
function decorate({ follow = false } = {}) {
  const { index, timeline, pos, selected, lineSelection } = S();
  if (!index || !timeline.length) return;
  const frame = stepFrame(index, timeline, pos);
  pane.decorate({ frame, overrides: updateLines(index, timeline, pos, S().source), selected, lineSelection });
  // The camera follows the step.
  if (follow) pane.follow(frame);
  const cur = frame.cur;
  // The source line the step ran.
  let line = null;
  if (cur.type === "forward") line = index.byId.get(cur.op)?.span?.line;
  else if (cur.type === "backward") {
    const pass = index.trace.passes.find((p) => p.index === cur.step.pass_index); // detailed passes only
    line = index.byId.get(cur.step.node)?.span?.line ?? pass?.span?.line;
  }
  else if (cur.type === "update") {
    line = cur.update.span?.line;
    const [changed] = frame.highlight.nodes.keys();
    if (changed) pane.reveal(changed);
  }
  editor.setStepLine(line);
  $("step-text").textContent = cur.group ? groupStepWords(index, pane.tree(), cur, t)
    : cur.type === "update" ? updateWords(cur, { t, source: S().source })
    : cur.type === "end" && training.shown() !== null ? t("step.passEnd", { pass: training.shown() + 1, n: index.trace.summaries.length })
      : stepWords(index, timeline, pos, t);
}

// ---- player -----------------------------------------------------------------------------------
const renderPlayer = bindPlayer(
  { first: $("btn-first"), prev: $("btn-prev"), play: $("btn-play"), next: $("btn-next"), last: $("btn-last"), slider: $("slider"), speed: $("speed"), into: $("btn-into") },
  {
    getState: S,
    go: (pos, { keepPlaying = false } = {}) => store.update({ pos, playing: keepPlaying ? S().playing : false }),
    setPlaying: (playing) => {
      const s = S();
      store.update({ playing, pos: playing && s.pos >= s.timeline.length - 1 ? 0 : s.pos });
    },
    setSpeed: (speed) => store.update({ speed }),
    stepInto,
  },
);

// ---- panels, tabs, errors ---------------------------------------------------------------------
function renderPanels() {
  const s = S();
  renderGradcheckPanel();
  renderConsole($("panel-console"), { index: s.index, t });
  const count = renderWarnings($("panel-warnings"), { index: s.index, t, message });
  $("warning-count").hidden = !count;
  $("warning-count").textContent = String(count);
}

function renderGradcheckPanel() {
  const s = S();
  renderGradcheckView($("panel-gradcheck"), { gradcheck: s.gradcheck, eps: s.eps, busy: s.gradcheckBusy, t, message, index: s.index });
}

function renderTabs() {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.dataset.tab === S().tab;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`panel-${tab.dataset.tab}`).hidden = !on;
  }
}

function renderError() {
  const { error, index } = S();
  const box = $("error");
  box.hidden = !error;
  document.body.classList.toggle("has-error", !!error);
  $("graph").classList.toggle("dimmed", !!error && !!index && !S().partial);
  if (!error) { box.innerHTML = ""; return; }
  const where = error.line ? `<button type="button" class="link" data-line="${error.line}">${h(t("error.at", { line: error.line, col: error.col }))}</button>: ` : "";
  // With a hint, the plain-language explanation and its fix come first, torch's own words below it.
  const hint = error.hint ? `<p class="hint"><strong>${h(t("error.hint"))}:</strong> ${h(message({ key: error.hint }))}</p>` : "";
  box.classList.toggle("with-hint", !!hint);
  box.innerHTML = `<strong>${h(t(`error.kind.${error.kind}`))}</strong> ${where}${hint}<span class="message"${error.key ? "" : ' lang="en"'}>${h(errorWords(error))}</span>` +
    (index ? `<p class="muted">${h(t(S().partial ? "error.partialGraph" : "error.previousGraph"))}</p>` : "");
}

function renderExamples() {
  const sel = $("examples");
  const chosen = sel.value;
  for (const opt of [...sel.options]) if (opt.value) opt.remove();
  for (const ex of S().examples) {
    const { title, description } = exampleText(ex);
    const opt = document.createElement("option");
    opt.value = ex.id;
    opt.textContent = title;
    opt.title = description;
    sel.appendChild(opt);
  }
  sel.value = chosen;
  const ex = S().examples.find((x) => x.id === chosen);
  $("example-description").textContent = ex ? exampleText(ex).description : "";
}

/** Everything worded from the catalogue, again, in the language just chosen. */
function renderLanguage(s) {
  setLanguage(s.lang);
  translatePage();
  for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", String(b.dataset.lang === s.lang));
  renderLegend();
  renderExamples();
  renderPanels();
  renderError();
  renderPlayer(s);
  renderStatus(s);
  renderNoticesNow();
  document.title = t("page.title");
  if (s.error) editor.showError({ line: s.error.line, col: s.error.col, message: errorWords(s.error), scroll: false });
  editor.setLanguage(s.lang, t("editor.title"));
  if (!s.index) $("step-text").textContent = t("step.none");
}

/** The status line: {key, args} from the catalogue (worded again when the language changes), {text}, or a string. */
function renderStatus(s) {
  const st = s.status;
  $("status").textContent = !st ? "" : typeof st === "string" ? st : st.key ? t(st.key, st.args) : st.text ?? "";
}

// ---- notices above the graph: implicit backward(), NaN/Inf gradients, a damaged link ----------
let brokenLink = false;
function renderNoticesNow() {
  const s = S();
  renderNotices($("notices"), { index: s.index, timeline: s.timeline, brokenLink, t });
}
$("notices").addEventListener("click", (event) => {
  const pos = event.target.closest?.("[data-pos]")?.dataset.pos;
  if (pos !== undefined) store.update({ pos: Number(pos), playing: false });
});

// ---- the one render loop ----------------------------------------------------------------------
store.subscribe((s, changed) => {
  if (changed.has("lang")) { renderLanguage(s); training.render(); pane.relabel(); }
  if (changed.has("index")) {
    rawTimeline = s.timeline;
    pane.load(s.index, { showConstants: s.showConstants, presentation: s.presentation });
  } else if (changed.has("showConstants") || changed.has("presentation")) pane.settings(s);
  // The chain-rule panel first: its height changes between forward and backward steps, and the
  // camera that follows the step must see the graph's new size.
  if (["index", "timeline", "pos", "lang"].some((k) => changed.has(k))) {
    renderExplanation($("explain"), { index: s.index, timeline: s.timeline, pos: s.pos, t, message, error: s.partial ? s.error : null });
    if (s.timeline[s.pos]?.type === "update") $("explain").innerHTML = updateHtml(s.timeline[s.pos], { t, source: s.source });
    const cur = s.timeline[s.pos];
    if (cur?.group && cur.type === "backward" && pane.tree()) {
      $("explain").innerHTML = `<p class="explain-group">${h(t("explain.group", { label: groupLabel(pane.tree().group(cur.group), t), count: cur.count }))}</p>`;
    }
  }
  if (["index", "timeline", "pos", "selected", "lineSelection", "lang"].some((k) => changed.has(k))) decorate({ follow: changed.has("pos") });
  // The hand backprop table (a row per tensor: thousands in a large graph) is drawn when its tab is open.
  if (s.tab === "backprop" && ["index", "selected", "lang", "tab"].some((k) => changed.has(k))) renderBackpropTable($("panel-backprop"), { index: s.index, selected: s.selected, t });
  if (!changed.has("index") && !changed.has("lang") && ["gradcheck", "gradcheckBusy"].some((k) => changed.has(k))) renderGradcheckPanel();
  if (["index", "timeline", "pos", "playing", "speed"].some((k) => changed.has(k))) renderPlayer(s);
  // The inspector shows the selected tensor as it is at the player's step.
  if (["index", "selected", "lineSelection", "lang"].some((k) => changed.has(k)) || (s.selected && ["timeline", "pos"].some((k) => changed.has(k)))) {
    const frame = s.index && s.timeline.length ? stepFrame(s.index, s.timeline, s.pos) : null;
    const tree = pane.tree();
    if (tree && s.selected && tree.group(s.selected)) {
      renderGroupInspector($("panel-inspector"), { index: s.index, tree, gid: s.selected, frame, open: pane.expanded().has(s.selected), t });
    } else {
      renderInspector($("panel-inspector"), { index: s.index, selected: s.selected, lineSelection: s.lineSelection, source: s.source, t, frame });
    }
    training.renderParamPlots($("panel-inspector"), s);
    if (changed.has("selected")) {
      if (s.selected) pane.reveal(s.selected);
      editor.setSelectedLine(s.selected ? s.index?.byId.get(s.selected)?.span?.line : null);
    }
  }
  if (changed.has("index")) renderPanels();
  if (changed.has("tab")) renderTabs();
  if (changed.has("error") || changed.has("index")) renderError();
  if (changed.has("busy")) { $("btn-trace").disabled = s.busy; document.body.classList.toggle("busy", s.busy); }
  if (changed.has("status")) renderStatus(s);
  if (changed.has("index") || changed.has("timeline")) renderNoticesNow();
  if (["index", "pos", "selected", "eps", "lang"].some((k) => changed.has(k))) {
    syncAddress(["index", "selected", "eps", "lang"].some((k) => changed.has(k)) ? 0 : 250);
  }
  if (changed.has("examples")) renderExamples();
  if (changed.has("presentation")) document.body.classList.toggle("presentation", s.presentation);
});

// ---- controls ---------------------------------------------------------------------------------
$("btn-trace").addEventListener("click", () => runTrace());
$("btn-fit").addEventListener("click", () => pane.fit({ whole: true }));
$("btn-expand-all").addEventListener("click", () => pane.expandAll());
$("btn-collapse-all").addEventListener("click", () => pane.collapseAll());
createSearch($("graph-search"), $("graph-search-results"), {
  t, getIndex: () => S().index, getTree: () => pane.tree(), onPick: (id) => pane.jumpTo(id),
});
$("toggle-constants").addEventListener("change", (e) => store.update({ showConstants: e.target.checked }));
$("toggle-presentation").addEventListener("change", (e) => store.update({ presentation: e.target.checked }));
$("examples").addEventListener("change", (e) => {
  const ex = S().examples.find((x) => x.id === e.target.value);
  if (!ex) return;
  $("example-description").textContent = exampleText(ex).description;
  editor.setText(ex.source);
  runTrace(ex.source);
});
for (const tab of document.querySelectorAll("[role=tab]")) {
  tab.addEventListener("click", () => store.update({ tab: tab.dataset.tab }));
  tab.addEventListener("keydown", (event) => {
    const tabs = [...document.querySelectorAll("[role=tab]")];
    const i = tabs.indexOf(tab);
    const j = event.key === "ArrowRight" ? (i + 1) % tabs.length : event.key === "ArrowLeft" ? (i + tabs.length - 1) % tabs.length : -1;
    if (j >= 0) { event.preventDefault(); tabs[j].focus(); store.update({ tab: tabs[j].dataset.tab }); }
  });
}
// Links inside panels: data-node selects a node, data-line selects a source line; a group's button opens it.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest?.("[data-toggle-group]");
  if (toggle) { pane.toggle(toggle.dataset.toggleGroup); return; }
  const link = event.target.closest?.("[data-node], [data-line]");
  if (!link || link.closest("#graph")) return;
  if (link.dataset.node) { store.update({ selected: link.dataset.node, lineSelection: null }); pane.jumpTo(link.dataset.node); }
  else if (link.dataset.line) {
    const line = Number(link.dataset.line);
    editor.selectLine(line);
    store.update({ lineSelection: line, selected: S().selected ?? firstNodeOnLine(line) });
  }
});
for (const b of document.querySelectorAll("[data-lang]")) {
  b.addEventListener("click", () => { rememberLanguage(b.dataset.lang); store.update({ lang: b.dataset.lang }); });
}
bindGradcheckView($("panel-gradcheck"), {
  onEps: (eps) => recheck(eps),
  onInvalid: () => store.update({ status: { key: "gradcheck.badEps" } }),
});
$("btn-share").addEventListener("click", async () => {
  const { pos, selected, eps, lang, source } = S();
  // The step and the selection belong to the traced program: a link to edited text keeps only eps and language.
  const text = editor.getText();
  const url = await shareUrl(text, text === source ? { pos, selected, eps, lang } : { eps, lang });
  history.replaceState(null, "", url);
  try { await navigator.clipboard.writeText(url); store.update({ status: { key: "share.copied" } }); }
  catch { store.update({ status: { key: "share.inAddressBar" } }); }
});
const exportMenu = $("export-menu");
$("btn-export").addEventListener("click", () => {
  exportMenu.hidden = !exportMenu.hidden;
  $("btn-export").setAttribute("aria-expanded", String(!exportMenu.hidden));
  if (!exportMenu.hidden) exportMenu.querySelector("button").focus();
});
exportMenu.addEventListener("click", async (event) => {
  const kind = event.target.closest("[data-export]")?.dataset.export;
  if (!kind || !pane.scene()) return;
  exportMenu.hidden = true;
  $("btn-export").setAttribute("aria-expanded", "false");
  await exportAs(kind, { svgElement: pane.svg(), scene: pane.scene(), trace: S().index.trace });
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !exportMenu.hidden) { exportMenu.hidden = true; $("btn-export").focus(); }
  if ((event.key === "f" || event.key === "F") && !event.target.closest?.(".cm-editor, input, select, textarea")) pane.fit({ whole: true });
});
let resizeTimer = null;  // a window dragged to a new size sends many events: lay out once it rests
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => pane.resized(), 150); });

function renderLegend() {
  const items = ["param", "constant", "intermediate", "root"].map((r) => `<li title="${h(t(`legend.${r}Title`))}"><span class="swatch role-${r}"></span>${h(t(`legend.${r}`))}</li>`);
  items.push(`<li title="${h(t("legend.opTitle"))}"><span class="swatch op"></span>${h(t("legend.op"))}</li>`);
  items.push(`<li title="${h(t("legend.gradTitle"))}"><span class="grad-sample">∇</span>${h(t("legend.grad"))}</li>`);
  $("legend").innerHTML = items.join("");
}

// ---- start ------------------------------------------------------------------------------------
(async () => {
  renderLanguage(S());
  renderTabs();
  renderPlayer(S());
  renderInspector($("panel-inspector"), { index: null, t });
  $("step-text").textContent = t("step.none");
  const given = await givenTrace();
  if (given) return showGiven(given);
  fetchExamples().then((examples) => store.update({ examples }));
  // A shared link: its program, language and eps first, then its step and selection once traced. A
  // link whose program cannot be read says so above the graph (the lesson is shown instead).
  const link = await decodeLink(location.hash);
  brokenLink = link.broken;
  if (link.lang) store.update({ lang: setLanguage(link.lang) });
  if (link.eps !== null) store.update({ eps: link.eps });
  if (link.source !== null) editor.setText(link.source);
  await runTrace(link.source ?? LESSON);
  const { index, timeline } = S();
  if (link.source !== null && index && S().source === link.source) {
    store.update({
      ...(link.pos !== null ? { pos: Math.min(link.pos, timeline.length - 1) } : {}),
      ...(link.selected && index.byId.has(link.selected) ? { selected: link.selected } : {}),
    });
  }
})();

// The graph pane: from an indexed trace to what is drawn. Groups the trace (analysis.js), chooses which
// groups start open, lays out the open ones in the worker (layouter.js) with a progress line, a Cancel
// button and a time budget past which it falls back to a coarser grouping, assembles the scene, hands
// it to the renderer (graph-view.js) and the minimap, and words every node, group and reference at each
// step of the player. Also: open/close a group in place (the camera keeps it where it was), jump to a
// node (its groups open), and keep the current step in view.
import { analyse } from "./analysis.js";
import { defaultExpanded, isGroupId, visibleItem, reveal as withAncestors } from "./groups.js";
import { visibleStructure, isRefId, isPortId } from "./view.js";
import { createLayoutCache, layoutJobs, resultOf, assembleScene } from "./assemble.js";
import { createLayouter } from "./layouter.js";
import { createGraphView } from "./graph-view.js";
import { createMinimap } from "./minimap.js";
import { metrics, sizeNode, sizeGroup, sizeRef, headerWidth } from "./scene.js";
import { readableZoom } from "./camera.js";
import { nodeLines, nodeAria, hiddenNodes, warmFrames as warm } from "./model.js";
import { groupLines, groupLabel, groupMeta, refLines } from "./group-lines.js";

export const LAYOUT_BUDGET_MS = 2500; // past this, a layout gives way to a coarser grouping
const PROGRESS_AFTER_MS = 100; // a layout that takes longer shows its progress
// A node's value text on screen in the first view, at the least: read at a desk, and from the back
// of a classroom in presentation mode.
export const READABLE_PX = { desk: 12, projector: 20 };
const ROLE_RANK = { active: 5, accumulate: 4, output: 3, "grad-out": 3, "grad-in": 2, input: 2 };

export function createGraphPane(container, { t, onSelect, onActivate, onExpanded, onStatus, fitNodes = (n) => n, nodeKeys = () => null, perf = {} }) {
  // A click on a reference goes to the tensor it stands for.
  const picked = (id) => (id && isRefId(id) && structure?.refs.has(id) ? jumpTo(structure.refs.get(id).tensor) : onSelect(id));
  const view = createGraphView(container, { onSelect: picked, onActivate, onToggle: (id) => toggle(id) });
  const minimap = createMinimap(container, { onMove: (x, y) => view.centerOn(x, y), labelKey: "graph.minimap" });
  view.onZoom((tr) => { const { W, H } = view.size(); minimap.setView(tr, W, H); });
  const layouter = createLayouter();
  // The time budget of a layout (tests set perf.layoutBudgetMs: a loaded machine must not change what they see).
  const budget = () => perf.layoutBudgetMs ?? LAYOUT_BUDGET_MS;
  const progress = progressBox(container, t("graph.cancel"), () => cancel());

  let index = null;
  let tree = null;
  let expanded = null;
  let drawnExpanded = null; // the expanded set of the scene on screen
  let hidden = new Set();
  let m = metrics(1);
  let presenting = false;
  const readable = () => readableZoom(m, presenting ? READABLE_PX.projector : READABLE_PX.desk);
  // Group layouts by what they depend on, kept across the passes of a training loop: a graph of the
  // same shape (another pass) is drawn again without a layout, where it was.
  const cache = createLayoutCache();
  let sizes = new Map();
  let canon = (id) => id;
  let structure = null; // the drawn scene's (a layout in progress has its own until it is drawn)
  let scene = null;
  let loadSeq = 0;
  let layoutSeq = 0;
  let lastDecor = null;
  let fitNext = false;
  let anchor = null; // {id, sx, sy}: keep this item's top-left at this screen point after the layout
  let afterLayout = null;

  /** A new trace: group it, open the default groups, lay out. */
  async function load(idx, { showConstants = true, presentation = false } = {}) {
    const seq = ++loadSeq;
    // A layout still running for the previous trace stops here.
    if (layouter.cancel()) perf.cancelled = (perf.cancelled ?? 0) + 1;
    index = idx;
    tree = null;
    expanded = null;
    drawnExpanded = null;
    sizes = new Map();
    const keys = nodeKeys(idx.trace);
    canon = keys ? (id) => keys.get(id) ?? id : (id) => id;
    if (!keys) cache.clear(); // only the passes of one training loop share layouts
    hidden = hiddenNodes(idx, { showConstants });
    m = metrics(presentation ? 1.3 : 1);
    presenting = presentation;
    progress.show(t("graph.grouping"), null);
    // The rest of the page takes the new trace in this task; grouping starts in the next one.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (seq !== loadSeq) return;
    const started = performance.now();
    let built;
    try {
      built = await analyse(idx);
    } catch (err) {
      progress.hide();
      onStatus(String(err.message ?? err));
      return;
    }
    if (seq !== loadSeq || !built) return;
    perf.groupMs = performance.now() - started;
    // Each in a task of its own (none of them long): the groups, the player's steps, the layout.
    const yieldTask = () => new Promise((resolve) => setTimeout(resolve, 0));
    await yieldTask();
    if (seq !== loadSeq) return;
    tree = built;
    expanded = defaultExpanded(tree);
    fitNext = true;
    onExpanded(tree, expanded);
    await yieldTask();
    if (seq !== loadSeq) return;
    await layout();
  }

  /** Constants shown or hidden, presentation size: the same groups, laid out again. */
  function settings({ showConstants, presentation }) {
    presenting = presentation;
    if (!index) return;
    hidden = hiddenNodes(index, { showConstants });
    const next = metrics(presentation ? 1.3 : 1);
    if (next.scale !== m.scale) { m = next; sizes = new Map(); }
    fitNext = true;
    // After the page has taken the setting's styles (presentation mode gives the graph more room):
    // the layout's direction depends on the pane's shape.
    queueMicrotask(layout);
  }

  /** The window changed size: a flat graph may read better the other way now, so it is laid out
   * afresh and fitted. (The cache is not keyed by the pane's size on purpose: the pane's height moves
   * with the explanation at every step, and a graph must not turn round while it is being stepped.) */
  function resized() {
    if (!tree) return;
    cache.clear();
    fitNext = true;
    layout();
  }

  /** The language changed: every box measured again for its new words and laid out again, the
   * camera left where it is (Portuguese words are longer: "operações", "ainda não calculado"). */
  function relabel() {
    if (!index) return;
    sizes = new Map();
    layout();
  }

  function setExpanded(next, { keep = null, then = null } = {}) {
    if (!tree) return;
    expanded = next;
    if (keep && scene?.pos.has(keep)) {
      const box = scene.pos.get(keep);
      const tr = view.transform();
      anchor = { id: keep, sx: tr.x + (box.x - box.w / 2) * tr.k, sy: tr.y + (box.y - box.h / 2) * tr.k };
    }
    afterLayout = then;
    onExpanded(tree, expanded);
    layout();
  }

  /** Open or close group `gid` in place. */
  function toggle(gid) {
    if (!tree || !gid || !isGroupId(gid) || gid === tree.root) return;
    const next = new Set(expanded);
    if (next.has(gid)) next.delete(gid); else next.add(gid);
    setExpanded(next, { keep: gid });
  }

  const expandAll = () => tree && setExpanded(new Set(tree.groups.keys()));
  const collapseAll = () => tree && setExpanded(new Set([tree.root]));

  /** Open the groups around `id` (a trace node or a group), then centre on it. */
  function jumpTo(id, { select = true } = {}) {
    if (!tree) return;
    const center = () => {
      const box = scene?.pos.get(id);
      if (box) view.centerOn(box.x, box.y, { animate: 300, k: Math.max(view.transform().k, 0.8) });
      if (select) onSelect(id);
    };
    const next = withAncestors(tree, expanded, id);
    if (next.size !== expanded.size) setExpanded(next, { then: center });
    else center();
  }

  /** The drawn item that shows trace node (or group) `id` (in the scene on screen). */
  function itemOf(id) {
    const open = drawnExpanded ?? expanded;
    if (!tree || !open) return id;
    if (isGroupId(id)) return visibleItem(tree, open, id);
    return tree.home.has(id) ? visibleItem(tree, open, id) : id;
  }

  /** Bring what shows `id` into view (no zoom change). */
  function reveal(id) {
    if (id) view.reveal(itemOf(id));
  }

  function cancel() {
    if (!layouter.cancel()) return;
    progress.hide();
    onStatus(t("graph.cancelled"));
    // Back to what is on screen, or, for a new trace, to the outermost groups (quick to lay out).
    const back = drawnExpanded && scene?.tree === tree ? drawnExpanded : new Set([tree.root]);
    expanded = back;
    onExpanded(tree, expanded);
    if (back !== drawnExpanded) layout();
  }

  // ---- layout ----------------------------------------------------------------------------------

  function sizeOf(id, st) {
    let s = sizes.get(id);
    if (s) return s;
    const hasBackward = index.trace.backward.length > 0;
    if (isGroupId(id)) s = sizeGroup(groupLines(tree, id, null, hasBackward, t), m);
    else if (isRefId(id)) s = sizeRef(refLines(tree, st.refs.get(id).tensor, t).title, m);
    else {
      const node = index.byId.get(id);
      s = sizeNode(node, nodeLines(node, null, hasBackward, t), m);
      // A training loop's pass: boxes that fit every detailed pass (training.js).
      const [fitted] = fitNodes([{ id, kind: node.kind, role: node.role ?? null, ...s }], index, m);
      s = { w: fitted.w, h: fitted.h };
    }
    sizes.set(id, s);
    return s;
  }

  const headerText = (g) => `${groupLabel(g, t)} · ${groupMeta(g, t)}`;

  function kindOf(id, st) {
    if (isGroupId(id)) return { kind: "group", role: null };
    if (isPortId(id)) return { kind: "port", role: null };
    if (isRefId(id)) {
      const tensor = st.refs.get(id).tensor;
      return { kind: "ref", role: index.byId.get(tensor)?.role ?? null, tensor };
    }
    const n = index.byId.get(id);
    return { kind: n.kind, role: n.role ?? null };
  }

  async function layout() {
    if (!tree) return;
    const seq = ++layoutSeq;
    const started = performance.now();
    const wanted = expanded;
    const st = visibleStructure(tree, wanted, { hidden, edges: index.trace.edges });
    st.root = tree.root;
    const minWidths = {};
    for (const gid of st.order) if (gid !== tree.root) minWidths[gid] = headerWidth(headerText(tree.group(gid)), m);
    const { jobs, known, hits, keys, total } = layoutJobs(st, (id) => sizeOf(id, st), cache, { m, rootRankdir: "auto", minWidths, canon });
    perf.layoutJobs = total;
    if (jobs.length) {
      let done = 0;
      const box = container.getBoundingClientRect();
      const showTimer = setTimeout(() => progress.show(t("graph.layingOut", { done, total }), done / total), PROGRESS_AFTER_MS);
      const budgetTimer = setTimeout(() => overBudget(seq), budget());
      let answer;
      try {
        answer = await layouter.run(jobs, {
          known,
          options: {
            viewW: box.width, viewH: box.height, readable: readable(),
            nodesep: 14 * m.scale, ranksep: 18 * m.scale, lr: { nodesep: 10 * m.scale, ranksep: 20 * m.scale },
            pad: m.framePad, header: m.header, root: tree.root, minWidths,
            delayMs: perf.layoutDelayMs ?? 0, // tests: a layout that surely outlasts a new trace's round trip
          },
          onGroup(msg) {
            const result = resultOf(msg);
            hits.set(msg.gid, result);
            cache.set(keys.get(msg.gid), result);
            done += 1;
            progress.update(t("graph.layingOut", { done, total }), done / total);
          },
        });
      } catch (err) {
        answer = null;
        onStatus(String(err.message ?? err));
      } finally {
        clearTimeout(showTimer);
        clearTimeout(budgetTimer);
      }
      if (seq !== layoutSeq || !answer) return;
      progress.hide();
    } else {
      progress.hide();
    }
    perf.layoutMs = jobs.length ? performance.now() - started : 0;
    const before = scene;
    try {
      scene = assembleScene(st, hits, tree, { m, kindOf: (id) => kindOf(id, st), sizeOf: (id) => sizeOf(id, st) });
    } catch (err) {
      onStatus(String(err.message ?? err));
      return;
    }
    structure = st;
    // The same shape laid out again (another pass of a training loop): the view stays where it was.
    if (!jobs.length && fitNext && before && before.width === scene.width && before.height === scene.height) fitNext = false;
    scene.tree = tree;
    scene.byId = new Map(scene.nodes.map((n) => [n.id, n]));
    for (const f of scene.frames) scene.byId.set(f.id, { ...f, kind: "frame" });
    drawnExpanded = wanted;
    view.setScene(scene);
    minimap.setScene(scene);
    if (lastDecor) decorate(lastDecor);
    placeCamera();
    const then = afterLayout;
    afterLayout = null;
    then?.();
    perf.layouts = (perf.layouts ?? 0) + 1;
    perf.renderer = view.renderer();
    const drawn = scene;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      perf.marks.painted = performance.now();
      perf.painted += 1;
      document.body.dataset.graphReady = String(perf.painted);
      // Complete: what the player needs is ready too (every gradient's steps, computed once per trace),
      // in a task of its own once the page is idle.
      const finish = () => {
        if (scene !== drawn) return;
        if (lastDecor?.frame) warm(index);
        perf.marks.complete = performance.now();
        perf.complete = (perf.complete ?? 0) + 1;
      };
      if (window.requestIdleCallback) requestIdleCallback(finish, { timeout: 500 }); else setTimeout(finish, 0);
    }));
  }

  function placeCamera() {
    if (anchor) {
      const box = scene.pos.get(anchor.id);
      const tr = view.transform();
      if (box) view.zoomTo({ k: tr.k, x: anchor.sx - (box.x - box.w / 2) * tr.k, y: anchor.sy - (box.y - box.h / 2) * tr.k });
      anchor = null;
      fitNext = false;
      return;
    }
    if (fitNext) {
      fitNext = false;
      fit({ animate: false });
    }
  }

  /**
   * The whole graph when it reads at that size (or `whole`); else a readable part around the root of
   * the first pass (the minimap, shown then, keeps its corner).
   */
  function fit({ animate = true, whole = false } = {}) {
    if (!scene) return;
    const root = index.trace.passes?.[0]?.root;
    view.fit({ animate, whole, focus: root ? itemOf(root) : null, readable: readable(), corner: minimap.corner() });
  }

  /** Past the time budget: stop, close the deepest open groups, and lay out again. */
  function overBudget(seq) {
    if (seq !== layoutSeq || !layouter.busy()) return;
    let deepest = 0;
    for (const gid of expanded) deepest = Math.max(deepest, tree.group(gid)?.depth ?? 0);
    if (deepest === 0) return; // only the root is open: let it finish
    layouter.cancel();
    const next = new Set([...expanded].filter((gid) => (tree.group(gid)?.depth ?? 0) < deepest));
    onStatus(t("graph.coarser", { s: (budget() / 1000).toFixed(1) }));
    anchor = null;
    fitNext = fitNext || !drawnExpanded;
    expanded = next;
    onExpanded(tree, expanded);
    layout();
  }

  // ---- decoration ------------------------------------------------------------------------------

  /** Words, roles and flows for one step: {frame, overrides: Map id -> {value?, grad?}, selected, lineSelection}. */
  function decorate(args) {
    lastDecor = args;
    if (!scene || !index || scene.tree !== tree) return;
    const { frame, overrides = new Map(), selected = null, lineSelection = null } = args;
    const hasBackward = index.trace.backward.length > 0;
    // Words per drawn item, made when a renderer asks (the canvas asks only for what is in view and
    // readable: a step costs what is on screen, not the 20,000 nodes of an open 10,000-op graph).
    const made = new Map();
    const word = (id) => {
      const sn = scene.byId.get(id);
      if (!sn || sn.kind === "port") return undefined;
      if (sn.kind === "frame") {
        const header = headerText(tree.group(id));
        return { header, tooltip: t("group.frameTitle", { label: header }), aria: header };
      }
      if (sn.kind === "group") return groupLines(tree, id, frame, hasBackward, t);
      if (sn.kind === "ref") return refLines(tree, sn.tensor, t);
      const node = index.byId.get(id);
      const l = nodeLines(node, frame, hasBackward, t);
      if (node.kind === "op") {
        l.tooltip = t("graph.opTitle", { label: node.label, gradFn: node.grad_fn, source: node.source }) +
          (node.module ? `\n${node.module}${node.module_class ? ` (${node.module_class})` : ""}` : "");
      }
      const over = overrides.get(id);
      if (over) Object.assign(l, over);
      l.aria = nodeAria(node, l, t);
      return l;
    };
    const lines = {
      get(id) {
        if (!made.has(id)) made.set(id, word(id));
        return made.get(id);
      },
      has(id) { return this.get(id) !== undefined; },
    };
    // Roles: a node inside a collapsed group lends its role to the group's box.
    const roles = new Map();
    const give = (item, role) => {
      if (!scene.pos.has(item)) return;
      const was = roles.get(item);
      if (!was || (ROLE_RANK[role] ?? 0) > (ROLE_RANK[was] ?? 0)) roles.set(item, role);
    };
    for (const [id, role] of frame.highlight.nodes) give(itemOf(id), role);
    for (const sn of scene.nodes) {
      if (sn.kind !== "ref") continue;
      const r = structure.refs.get(sn.id);
      const role = frame.highlight.nodes.get(r.tensor);
      if (role && roles.has(r.reader)) roles.set(sn.id, role);
    }
    const flows = [];
    for (const e of frame.highlight.edges) {
      const keys = structure.routes.get(`${e.source}>${e.target}`) ?? [];
      keys.forEach((key, i) => flows.push({ key, role: e.role, first: i === 0, last: i === keys.length - 1, pulse: true }));
    }
    const lineNodes = new Set();
    if (lineSelection) for (const n of index.trace.nodes) if (n.span?.line === lineSelection) lineNodes.add(itemOf(n.id));
    const cur = frame.cur;
    view.setDecor({
      lines, roles, flows, selected: selected ? itemOf(selected) : null, lineNodes,
      stepping: cur.type === "forward" || cur.type === "backward" || cur.type === "update",
      backward: cur.type === "backward",
    });
  }

  /** Keep the step's active node (or the group holding it) in view. */
  function follow(frame) {
    if (!scene) return;
    let best = null;
    for (const [id, role] of frame.highlight.nodes) {
      if (!best || (ROLE_RANK[role] ?? 0) > (ROLE_RANK[best[1]] ?? 0)) best = [id, role];
    }
    if (best) view.reveal(itemOf(best[0]));
  }

  return {
    load, settings, relabel, resized, decorate, follow, toggle, setExpanded, expandAll, collapseAll, jumpTo, reveal, itemOf, cancel,
    fit,
    transform: () => view.transform(),
    moving: () => view.moving(), // the camera is on its way somewhere (tests wait for it)
    centerOn: (x, y, opts) => view.centerOn(x, y, opts),
    renderer: () => view.renderer(),
    focusNode: (id) => view.focusNode(itemOf(id)),
    svg: () => view.svg(),
    scene: () => scene,
    tree: () => tree,
    expanded: () => expanded,
  };
}

/** The "laying out…" line over the graph: text, a bar, and Cancel. */
function progressBox(container, cancelText, onCancel) {
  const box = document.createElement("div");
  box.className = "graph-progress";
  box.setAttribute("role", "status");
  box.hidden = true;
  box.innerHTML = '<span class="graph-progress-text"></span><progress max="1"></progress><button type="button" class="graph-cancel" data-i18n="graph.cancel"></button>';
  container.appendChild(box);
  const text = box.querySelector(".graph-progress-text");
  const bar = box.querySelector("progress");
  box.querySelector("button").textContent = cancelText;
  box.querySelector("button").addEventListener("click", onCancel);
  const update = (label, fraction) => {
    text.textContent = label;
    if (fraction === null) bar.removeAttribute("value"); else bar.value = fraction;
  };
  return {
    show(label, fraction) { update(label, fraction); box.hidden = false; },
    update,
    hide() { box.hidden = true; },
  };
}

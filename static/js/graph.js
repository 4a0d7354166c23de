// The SVG graph renderer (D3). It draws a plain scene — nodes with positions and sizes, edges with
// polylines — and a per-step "decoration" — node text, highlight roles, gradient flows. It never reads
// the trace or the page state; a Canvas renderer with the same two calls could replace it.
import * as d3 from "../vendor/d3/d3.js";
import { FONTS } from "./scene.js";

const line = d3.line().curve(d3.curveBasis);

const SVGNS = "http://www.w3.org/2000/svg";
// Graphs up to this many nodes are drawn in one go; larger ones are built in slices across tasks,
// the nodes and edges in the initial view first, so the page paints early and stays responsive.
const SYNC_NODES = 300;
const FIRST_SLICE_MS = 16;
const SLICE_MS = 16;

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/** Prototype node groups for a scene's metrics: cloned per node (cheaper than building each). */
function prototypes(m) {
  const op = el("g", { tabindex: 0, role: "button" });
  el("rect", { class: "shape" }, op);
  el("text", { class: "t-op", dy: "0.35em", "font-size": m.op, "font-family": FONTS.sans }, op);
  el("title", {}, op);
  const tensor = el("g", { tabindex: 0, role: "button" });
  el("rect", { class: "shape", rx: 6 }, tensor);
  let y = m.padY;
  const title = el("text", { class: "t-title", x: m.padX, y: (y += m.lineTitle) - 4, "font-family": FONTS.sans }, tensor);
  el("tspan", { class: "t-name", "font-size": m.title }, title);
  el("tspan", { class: "t-meta", "font-size": m.meta, dx: m.gap }, title);
  el("text", { class: "t-value", x: m.padX, y: (y += m.lineValue) - 4, "font-size": m.value, "font-family": FONTS.mono }, tensor);
  el("text", { class: "t-grad", x: m.padX, y: (y += m.lineValue) - 4, "font-size": m.value, "font-family": FONTS.mono }, tensor);
  return { op, tensor };
}

const ROLE_CLASSES = ["active", "input", "output", "grad-in", "grad-out", "accumulate"];

export function createGraphView(container, { onSelect, onActivate, onBuilt = () => {} }) {
  const svg = d3.select(container).append("svg")
    .attr("class", "grafo-graph")
    .attr("role", "group")
    .attr("xmlns", "http://www.w3.org/2000/svg");
  const defs = svg.append("defs");
  for (const [id, cls] of [["arrow", "arrow"], ["arrow-hl", "arrow hl"], ["arrow-grad", "arrow grad"]]) {
    defs.append("marker").attr("id", id).attr("viewBox", "0 0 10 10").attr("refX", 9).attr("refY", 5)
      .attr("markerUnits", "userSpaceOnUse").attr("markerWidth", id === "arrow" ? 8 : 11).attr("markerHeight", id === "arrow" ? 8 : 11)
      .attr("orient", "auto-start-reverse")
      .append("path").attr("d", "M0,0 L10,5 L0,10 z").attr("class", cls);
  }
  const viewport = svg.append("g").attr("class", "viewport");
  const scene = viewport.append("g").attr("class", "scene");
  const edgeLayer = scene.append("g").attr("class", "edges");
  const flowLayer = scene.append("g").attr("class", "flows");
  const nodeLayer = scene.append("g").attr("class", "nodes");

  let current = null; // {nodes, edges, width, height, metrics}
  let nodeById = new Map();
  let edgeByKey = new Map();
  let lastFlowKey = "";
  // What is drawn: one record per scene node and edge, built lazily (see `build`). The renderer's own
  // bookkeeping of its elements, never read back as page state.
  let records = [];          // node records {n, el, built, text, role, selected, onLine}, in scene order
  let recordById = new Map();
  let recordByEl = new Map();
  let edgeRecords = [];      // {e, el}
  let queue = [];            // records (node or edge) still to build, nearest to the initial view first
  let queueAt = 0;
  let protos = null;
  let decor = null;
  let backwardMarkers = false;
  let timer = 0;

  // Level of detail: below this zoom text is too small to read (under ~4 px), so it is not drawn,
  // which keeps panning and zooming a large graph's overview smooth. Set as an inline custom property
  // on the <svg> (an export drops the element's inline style, so exports always carry their text).
  const TEXT_MIN_SCALE = 0.3;
  let textHidden = false;
  const zoom = d3.zoom().scaleExtent([0.03, 6]).on("zoom", (event) => {
    viewport.attr("transform", event.transform);
    scheduleCull();
    const hide = event.transform.k < TEXT_MIN_SCALE;
    if (hide !== textHidden) {
      textHidden = hide;
      if (hide) svg.node().style.setProperty("--grafo-text", "none");
      else svg.node().style.removeProperty("--grafo-text");
    }
  });
  svg.call(zoom).on("dblclick.zoom", null);
  svg.on("click", (event) => { if (event.target === svg.node()) onSelect(null); });
  // One listener for all nodes (nodes come and go with scenes).
  const recordOf = (event) => recordByEl.get(event.target.closest?.("g.node"));
  nodeLayer.on("click", (event) => {
    const r = recordOf(event);
    if (r) { event.stopPropagation(); onSelect(r.n.id); }
  });
  nodeLayer.on("focusin", (event) => {
    const r = recordOf(event);
    if (r && culling) reveal(r.n.id);
  });
  nodeLayer.on("keydown", (event) => {
    const r = recordOf(event);
    if (r && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); event.stopPropagation(); onActivate(r.n.id); }
  });

  let lastSize = null;
  function size() {
    const r = container.getBoundingClientRect();
    lastSize = { W: Math.max(r.width, 50), H: Math.max(r.height, 50) };
    return lastSize;
  }

  // Culling (large scenes only): what lies more than half a screen outside the view is not displayed,
  // so panning and zooming repaint only what is near the view. Elements stay in the document (in
  // scene order); a culled node that gets keyboard focus is brought into view.
  let culling = false;
  let view = null; // [x0, y0, x1, y1] in scene coordinates, margin included
  let cullFrame = 0;
  function viewRect() {
    const t = d3.zoomTransform(svg.node());
    const { W, H } = lastSize ?? size();
    const margin = Math.max(W, H) / 2;
    return [(-margin - t.x) / t.k, (-margin - t.y) / t.k, (W + margin - t.x) / t.k, (H + margin - t.y) / t.k];
  }
  const inView = (b) => b[0] <= view[2] && b[2] >= view[0] && b[1] <= view[3] && b[3] >= view[1];
  function show(r, on) {
    if (on === r.shown) return;
    r.shown = on;
    r.el.style.display = on ? "" : "none";
  }
  function cull() {
    cullFrame = 0;
    if (!culling) return;
    view = viewRect();
    for (const r of records) if (r.built) show(r, inView(r.box));
    for (const r of edgeRecords) if (r.built) show(r, inView(r.box));
  }
  function scheduleCull() {
    if (culling && !cullFrame) cullFrame = requestAnimationFrame(cull);
  }
  function showAll() {
    for (const r of records) if (r.built) show(r, true);
    for (const r of edgeRecords) if (r.built) show(r, true);
  }

  function buildNode(r) {
    const n = r.n;
    const g = (n.kind === "op" ? protos.op : protos.tensor).cloneNode(true);
    g.setAttribute("class", `node ${n.kind}${n.role ? ` role-${n.role}` : ""}`);
    g.setAttribute("data-id", n.id);
    g.setAttribute("transform", `translate(${n.x - n.w / 2},${n.y - n.h / 2})`);
    const rect = g.firstChild;
    rect.setAttribute("width", n.w);
    rect.setAttribute("height", n.h);
    if (n.kind === "op") {
      rect.setAttribute("rx", n.h / 2);
      const text = rect.nextSibling;
      text.setAttribute("x", n.w / 2);
      text.setAttribute("y", n.h / 2);
    }
    r.el = g;
    r.built = true;
    recordByEl.set(g, r);
    // Keep document (and so keyboard) order the scene's order, whatever order nodes are built in.
    let next = null;
    for (let i = r.index + 1; i < records.length; i++) if (records[i].built) { next = records[i].el; break; }
    r.shown = true;
    if (culling) show(r, inView(r.box));
    nodeLayer.node().insertBefore(g, next);
    if (decor) decorateNode(r);
  }

  function buildEdge(r) {
    r.el = el("path", { class: "edge", d: line(r.e.points) }, edgeLayer.node());
    r.el.setAttribute(backwardMarkers ? "marker-start" : "marker-end", "url(#arrow)");
    r.built = true;
    r.shown = true;
    if (culling) show(r, inView(r.box));
  }

  /** Build queued records for about `budget` ms (all of them when budget is Infinity). */
  function build(budget) {
    const started = performance.now();
    let k = 0;
    while (queueAt < queue.length) {
      const r = queue[queueAt++];
      if (!r.built) (r.e ? buildEdge(r) : buildNode(r));
      if ((++k & 15) === 0 && performance.now() - started > budget) break;
    }
    if (queueAt < queue.length) timer = setTimeout(() => { timer = 0; build(SLICE_MS); }, 0);
    else if (current) { queue = []; queueAt = 0; onBuilt(); }
  }

  /** Finish drawing now (export and keyboard focus need every node). */
  function finish() {
    if (timer) { clearTimeout(timer); timer = 0; }
    if (queueAt < queue.length) build(Infinity);
  }

  /** Draw a new scene (after a layout). Small scenes at once, large ones in slices. */
  function setScene(sc) {
    if (timer) { clearTimeout(timer); timer = 0; }
    current = sc;
    nodeById = new Map(sc.nodes.map((n) => [n.id, n]));
    edgeByKey = new Map(sc.edges.map((e) => [`${e.source}->${e.target}`, e]));
    lastFlowKey = "";
    decor = null;
    edgeLayer.node().textContent = "";
    flowLayer.node().textContent = "";
    nodeLayer.node().textContent = "";
    protos = prototypes(sc.metrics);
    records = sc.nodes.map((n, index) => ({ n, index, el: null, built: false, text: "", role: null, selected: false, onLine: false }));
    recordById = new Map(records.map((r) => [r.n.id, r]));
    recordByEl = new Map();
    edgeRecords = sc.edges.map((e) => ({ e, el: null, built: false }));
    svg.classed("empty", sc.nodes.length === 0);
    queue = [...edgeRecords, ...records];
    queueAt = 0;
    culling = false;
    if (sc.nodes.length <= SYNC_NODES) { build(Infinity); return; }
    for (const r of records) r.box = [r.n.x - r.n.w / 2, r.n.y - r.n.h / 2, r.n.x + r.n.w / 2, r.n.y + r.n.h / 2];
    for (const r of edgeRecords) {
      const xs = r.e.points.map((p) => p[0]);
      const ys = r.e.points.map((p) => p[1]);
      r.box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    }
    // Nearest to the centre of the initial view first (distance in screen pixels).
    const { W, H } = size();
    const t = initialTransform(W, H);
    culling = true;
    view = [(-W / 2 - t.x) / t.k, (-H / 2 - t.y) / t.k, (1.5 * W - t.x) / t.k, (1.5 * H - t.y) / t.k];
    const cx = (W / 2 - t.x) / t.k;
    const cy = (H / 2 - t.y) / t.k;
    const dist = (r) => {
      const p = r.e ? r.e.points[r.e.points.length >> 1] ?? [cx, cy] : [r.n.x, r.n.y];
      return (p[0] - cx) ** 2 + (p[1] - cy) ** 2;
    };
    for (const r of queue) r.dist = dist(r);
    queue.sort((a, b) => a.dist - b.dist);
    // The first slice runs once the caller has set the decoration and the view (same task, before paint).
    queueMicrotask(() => { if (current === sc && queueAt === 0) build(FIRST_SLICE_MS); });
  }

  function decorateNode(r) {
    const { lines, roles, selected, lineNodes } = decor;
    const n = r.n;
    const g = r.el;
    const l = lines.get(n.id);
    if (l) {
      const key = `${l.title}\u0000${l.meta}\u0000${l.value}\u0000${l.grad}\u0000${l.tooltip}\u0000${l.aria}`;
      if (r.text !== key) {
        r.text = key;
        g.setAttribute("aria-label", l.aria);
        if (n.kind === "op") {
          g.querySelector("text.t-op").textContent = l.title;
          g.querySelector("title").textContent = l.tooltip;
        } else {
          g.querySelector("tspan.t-name").textContent = l.title;
          g.querySelector("tspan.t-meta").textContent = l.meta;
          const value = g.querySelector("text.t-value");
          value.textContent = l.value;
          value.classList.toggle("hidden-value", l.value === "…");
          const grad = g.querySelector("text.t-grad");
          grad.textContent = l.grad ?? "";
          grad.classList.toggle("pending", l.grad === "∇ …");
        }
      }
    }
    const role = roles.get(n.id) ?? null;
    if (role !== r.role) {
      if (r.role) g.classList.remove(`hl-${r.role}`);
      if (role && ROLE_CLASSES.includes(role)) g.classList.add(`hl-${role}`);
      r.role = role;
    }
    const sel = selected === n.id;
    if (sel !== r.selected || !g.hasAttribute("aria-pressed")) {
      g.classList.toggle("selected", sel);
      g.setAttribute("aria-pressed", sel ? "true" : "false");
      r.selected = sel;
    }
    const on = lineNodes.has(n.id);
    if (on !== r.onLine) { g.classList.toggle("on-line", on); r.onLine = on; }
  }

  /** Update text, highlight roles and gradient flows for one step. Only what changed is touched. */
  function setDecor(d) {
    if (!current) return;
    decor = d;
    for (const r of records) if (r.built) decorateNode(r);
    svg.classed("stepping", d.stepping).classed("backward", d.backward);
    if (d.backward !== backwardMarkers) {
      backwardMarkers = d.backward;
      for (const r of edgeRecords) {
        if (!r.built) continue;
        if (backwardMarkers) { r.el.removeAttribute("marker-end"); r.el.setAttribute("marker-start", "url(#arrow)"); }
        else { r.el.removeAttribute("marker-start"); r.el.setAttribute("marker-end", "url(#arrow)"); }
      }
    }
    drawFlows(d.flows, d.backward);
  }

  function drawFlows(flows, backward) {
    const key = flows.map((f) => `${f.source}>${f.target}:${f.role}`).join("|") + (backward ? "b" : "f");
    if (key === lastFlowKey) return;
    lastFlowKey = key;
    const data = flows
      .map((f) => ({ ...f, edge: edgeByKey.get(`${f.source}->${f.target}`) }))
      .filter((f) => f.edge);
    const paths = flowLayer.selectAll("path.flow")
      .data(data, (f) => `${f.source}>${f.target}:${f.role}`)
      .join("path")
      .attr("class", (f) => `flow ${f.role}`)
      .attr("d", (f) => line(f.edge.points))
      .attr("marker-end", (f) => (f.role === "forward" ? "url(#arrow-hl)" : null))
      .attr("marker-start", (f) => (f.role === "grad-out" || f.role === "grad-in" ? "url(#arrow-grad)" : null));
    // A dot runs along each edge a gradient (or value) travels: from the op back to its inputs in
    // backward, from inputs through the op in forward.
    flowLayer.selectAll("circle.pulse").remove();
    paths.filter((f) => f.role !== "no-grad").each(function (f) {
      const path = this;
      const length = path.getTotalLength();
      const reverse = f.role === "grad-out" || f.role === "grad-in";
      const startAt = f.role === "grad-in" ? 0 : 250;
      flowLayer.append("circle").attr("class", `pulse ${f.role}`).attr("r", 4.5)
        .attr("transform", () => { const p = path.getPointAtLength(reverse ? length : 0); return `translate(${p.x},${p.y})`; })
        .transition().delay(startAt).duration(650).ease(d3.easeCubicInOut)
        .attrTween("transform", () => (tt) => {
          const p = path.getPointAtLength(reverse ? length * (1 - tt) : length * tt);
          return `translate(${p.x},${p.y})`;
        })
        .transition().duration(200).attr("r", 0).remove();
    });
  }

  /** The initial view: the whole graph, or, when it would be unreadably small, a readable part ending at the root. */
  function initialTransform(W, H, { whole = false, focus = null } = {}) {
    const pad = 16;
    const k = Math.min((W - 2 * pad) / current.width, (H - 2 * pad) / current.height, 1.6);
    const minReadable = 0.45;
    if (!whole && k < minReadable) {
      const target = focus ?? current.nodes[current.nodes.length - 1];
      const kk = 0.8;
      return d3.zoomIdentity.translate(W / 2 - target.x * kk, H - pad - target.y * kk - target.h * kk).scale(kk);
    }
    return d3.zoomIdentity.translate((W - current.width * k) / 2, (H - current.height * k) / 2).scale(k);
  }

  /** Fit the whole graph (or, when it would be unreadably small, a readable part ending at the root). */
  function fit({ animate = true, whole = false, focus = null } = {}) {
    if (!current || !current.nodes.length) return;
    const { W, H } = size();
    const transform = initialTransform(W, H, { whole, focus });
    (animate ? svg.transition().duration(350) : svg).call(zoom.transform, transform);
  }

  /** Bring a node into view without changing the zoom level. */
  function reveal(id) {
    const n = nodeById.get(id);
    if (!n) return;
    const t = d3.zoomTransform(svg.node());
    const { W, H } = size();
    const [sx, sy] = [t.applyX(n.x), t.applyY(n.y)];
    if (sx > 20 && sx < W - 20 && sy > 20 && sy < H - 20) return;
    svg.transition().duration(300).call(zoom.translateTo, n.x, n.y);
  }

  function focusNode(id) {
    const r = recordById.get(id);
    if (!r) return;
    if (!r.built) buildNode(r);
    show(r, true);
    r.el.focus();
  }

  /** The SVG element, with every node and edge drawn (for export). */
  function svgElement() {
    finish();
    // The caller clones it at once (export.js); culling resumes in a later task.
    if (culling) { showAll(); setTimeout(cull, 0); }
    return svg.node();
  }

  return { setScene, setDecor, fit, reveal, focusNode, finish, svg: svgElement, scene: () => current };
}

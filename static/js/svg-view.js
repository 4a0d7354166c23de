// The SVG renderer: small scenes (every node an element: accessible names, hover titles, CSS styles) and
// every export. It draws a scene (assemble.js: nodes, frames of expanded groups, edges) and a per-step
// decoration (text of every node, highlight roles, gradient flows). Pan and zoom with d3-zoom; the
// camera itself (camera.js) is shared with the canvas renderer.
import * as d3 from "../vendor/d3/d3.js";
import { FONTS } from "./scene.js";
import { textRuns, headerRun, toggleBox } from "./paint.js";
import { RING } from "./graph-keyboard.js";

const line = d3.line().curve(d3.curveBasis);
const SVGNS = "http://www.w3.org/2000/svg";
const ROLE_CLASSES = ["active", "input", "output", "grad-in", "grad-out", "accumulate"];

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

export function createSvgView(container, { onSelect, onToggle, onZoom = () => {} }) {
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
  const frameLayer = viewport.append("g").attr("class", "frames");
  const edgeLayer = viewport.append("g").attr("class", "edges");
  const flowLayer = viewport.append("g").attr("class", "flows");
  const nodeLayer = viewport.append("g").attr("class", "nodes");
  // The keyboard's ring (graph-keyboard.js), above everything and never dimmed with its node.
  const ringLayer = viewport.append("g").attr("class", "focus-ring").style("display", "none");
  const ringRect = (part) => ringLayer.append("rect").attr("fill", "none").attr("stroke", part.colour)
    .attr("stroke-width", part.width).attr("vector-effect", "non-scaling-stroke");
  const ringHalo = ringRect(RING.halo);
  const ringLine = ringRect(RING.line);
  let ring = null; // its rect in scene units

  let current = null;
  let records = new Map(); // id -> {n, el, text, role, selected, onLine}
  let edgeEls = new Map(); // scene edge key -> path
  let lastFlowKey = "";
  let backwardMarkers = false;

  // Level of detail: below this zoom text is too small to read, so it is not drawn (an export drops
  // the element's inline style, so exports always carry their text).
  const TEXT_MIN_SCALE = 0.3;
  let textHidden = false;
  // A pan that follows the step keeps its zoom all the way (d3's default flies out and back in).
  const zoom = d3.zoom().scaleExtent([0.02, 6]).interpolate(d3.interpolate).on("zoom", (event) => {
    viewport.attr("transform", event.transform);
    placeRing(event.transform.k);
    const hide = event.transform.k < TEXT_MIN_SCALE;
    if (hide !== textHidden) {
      textHidden = hide;
      if (hide) svg.node().style.setProperty("--grafo-text", "none");
      else svg.node().style.removeProperty("--grafo-text");
    }
    onZoom(event.transform);
  });
  svg.call(zoom).on("dblclick.zoom", null);

  const idOf = (event) => event.target.closest?.("[data-id]")?.getAttribute("data-id") ?? null;
  svg.on("click", (event) => {
    if (event.target.closest?.(".toggle")) { event.stopPropagation(); onToggle(idOf(event)); return; }
    onSelect(idOf(event));
  });
  svg.on("dblclick", (event) => {
    const id = idOf(event);
    if (id?.startsWith("g:")) { event.preventDefault(); onToggle(id); }
  });

  function buildToggle(parent, box, open) {
    const g = el("g", { class: "toggle", transform: `translate(${box.x},${box.y})` }, parent);
    el("rect", { width: box.s, height: box.s, rx: 2 }, g);
    el("path", { d: open ? `M3,${box.s / 2}H${box.s - 3}` : `M3,${box.s / 2}H${box.s - 3}M${box.s / 2},3V${box.s - 3}` }, g);
  }

  function buildFrame(f, m) {
    const g = el("g", { class: `frame depth-${Math.min(f.depth, 4)}`, "data-id": f.id, transform: `translate(${f.x},${f.y})` }, frameLayer.node());
    el("rect", { class: "frame-shape", width: f.w, height: f.h, rx: 8 }, g);
    const head = el("g", { class: "frame-head", role: "button", "data-id": f.id }, g);
    el("rect", { class: "frame-head-shape", width: f.w, height: m.header, rx: 8 }, head);
    const run = headerRun("", m);
    el("text", { class: "frame-title", x: run.x, y: run.y, dy: "0.35em", "font-size": m.meta + 0.5, "font-family": FONTS.sans }, head);
    el("title", {}, head);
    buildToggle(head, toggleBox("frame", m), true);
    records.set(f.id, { n: { ...f, kind: "frame" }, el: g, head, text: "", role: null, selected: false, onLine: false });
  }

  function buildNode(n, m) {
    const cls = n.kind === "port" ? "port" : `node ${n.kind}${n.role ? ` role-${n.role}` : ""}`;
    const g = el("g", { class: cls, "data-id": n.id, transform: `translate(${n.x - n.w / 2},${n.y - n.h / 2})` }, nodeLayer.node());
    if (n.kind === "port") { el("circle", { cx: n.w / 2, cy: n.h / 2, r: n.w / 2 }, g); return; }
    g.setAttribute("role", "button");
    const rx = n.kind === "op" ? n.h / 2 : n.kind === "ref" ? 4 : n.kind === "group" ? 8 : 6;
    el("rect", { class: "shape", width: n.w, height: n.h, rx }, g);
    if (n.kind === "group") buildToggle(g, toggleBox("group", m), false);
    el("title", {}, g);
    records.set(n.id, { n, el: g, text: "", role: null, selected: false, onLine: false });
  }

  /** Draw a new scene (after a layout). */
  function setScene(sc) {
    current = sc;
    lastFlowKey = "";
    for (const layer of [frameLayer, edgeLayer, flowLayer, nodeLayer]) layer.node().textContent = "";
    records = new Map();
    edgeEls = new Map();
    const m = sc.metrics;
    for (const f of sc.frames) buildFrame(f, m);
    for (const e of sc.edges) {
      const p = el("path", { class: "edge", d: line(e.points) }, edgeLayer.node());
      p.setAttribute(backwardMarkers ? "marker-start" : "marker-end", "url(#arrow)");
      edgeEls.set(e.key, p);
    }
    for (const n of sc.nodes) buildNode(n, m);
    svg.classed("empty", sc.nodes.length === 0);
  }

  function writeText(r, l, m) {
    const g = r.el;
    for (const t of g.querySelectorAll(":scope > text")) t.remove();
    const runs = textRuns(r.n.kind, l, r.n.w, r.n.h, m);
    // Title and meta share a <text> (tspans), as the tensor nodes always had them.
    let i = 0;
    while (i < runs.length) {
      const run = runs[i];
      const t = el("text", { x: run.x, y: run.y, "font-family": run.font.includes("Mono") ? FONTS.mono : FONTS.sans }, g);
      if (run.anchor) t.setAttribute("text-anchor", run.anchor);
      if (run.middle) t.setAttribute("dy", "0.35em");
      if (run.cls === "t-name") {
        t.setAttribute("class", "t-title");
        el("tspan", { class: "t-name", "font-size": fontSize(run.font) }, t).textContent = run.text;
        const meta = runs[i + 1];
        el("tspan", { class: "t-meta", "font-size": fontSize(meta.font), dx: m.gap }, t).textContent = meta.text;
        i += 2;
        continue;
      }
      t.setAttribute("class", run.cls);
      t.setAttribute("font-size", fontSize(run.font));
      t.textContent = run.text;
      i += 1;
    }
  }

  function decorateRecord(r) {
    const { lines, roles, selected, lineNodes } = decor;
    const m = current.metrics;
    const l = lines.get(r.n.id);
    if (l) {
      const key = r.n.kind === "group"
        ? `${l.title}\u0000${l.meta}\u0000${l.inputs}\u0000${l.outs.map((o) => `${o.value}\u0001${o.grad}`).join("\u0002")}\u0000${l.tooltip}`
        : `${l.title}\u0000${l.meta}\u0000${l.value}\u0000${l.grad}\u0000${l.tooltip}\u0000${l.aria}`;
      if (r.text !== key) {
        r.text = key;
        if (r.n.kind === "frame") {
          r.head.querySelector("text.frame-title").textContent = l.header;
          r.head.querySelector("title").textContent = l.tooltip ?? "";
          r.head.setAttribute("aria-label", l.aria ?? l.header);
        } else {
          writeText(r, l, m);
          r.el.querySelector("title").textContent = l.tooltip ?? l.title;
          r.el.setAttribute("aria-label", l.aria ?? l.title);
        }
      }
    }
    const g = r.n.kind === "frame" ? r.head : r.el;
    const role = roles.get(r.n.id) ?? null;
    if (role !== r.role) {
      if (r.role) r.el.classList.remove(`hl-${r.role}`);
      if (role && ROLE_CLASSES.includes(role)) r.el.classList.add(`hl-${role}`);
      r.role = role;
    }
    const sel = selected === r.n.id;
    if (sel !== r.selected || !g.hasAttribute("aria-pressed")) {
      r.el.classList.toggle("selected", sel);
      g.setAttribute("aria-pressed", sel ? "true" : "false");
      r.selected = sel;
    }
    const on = lineNodes.has(r.n.id);
    if (on !== r.onLine) { r.el.classList.toggle("on-line", on); r.onLine = on; }
  }

  let decor = null;
  /** Text, highlight roles and gradient flows for one step. Only what changed is touched. */
  function setDecor(d) {
    if (!current) return;
    decor = d;
    for (const r of records.values()) decorateRecord(r);
    svg.classed("stepping", d.stepping).classed("backward", d.backward);
    if (d.backward !== backwardMarkers) {
      backwardMarkers = d.backward;
      for (const p of edgeEls.values()) {
        if (backwardMarkers) { p.removeAttribute("marker-end"); p.setAttribute("marker-start", "url(#arrow)"); }
        else { p.removeAttribute("marker-start"); p.setAttribute("marker-end", "url(#arrow)"); }
      }
    }
    drawFlows(d.flows, d.backward);
  }

  function drawFlows(flows, backward) {
    const key = flows.map((f) => `${f.key}:${f.role}`).join("|") + (backward ? "b" : "f");
    if (key === lastFlowKey) return;
    lastFlowKey = key;
    const edgeOf = new Map(current.edges.map((e) => [e.key, e]));
    const data = flows.map((f) => ({ ...f, edge: edgeOf.get(f.key) })).filter((f) => f.edge && f.edge.points.length);
    const paths = flowLayer.selectAll("path.flow")
      .data(data, (f) => `${f.key}:${f.role}`)
      .join("path")
      .attr("class", (f) => `flow ${f.role}`)
      .attr("d", (f) => line(f.edge.points))
      .attr("marker-end", (f) => (f.role === "forward" && f.last ? "url(#arrow-hl)" : null))
      .attr("marker-start", (f) => ((f.role === "grad-out" || f.role === "grad-in") && f.first ? "url(#arrow-grad)" : null));
    // A dot runs along each edge a gradient (or value) travels.
    flowLayer.selectAll("circle.pulse").remove();
    paths.filter((f) => f.role !== "no-grad" && f.pulse).each(function (f) {
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

  function size() {
    const r = container.getBoundingClientRect();
    return { W: Math.max(r.width, 50), H: Math.max(r.height, 50) };
  }

  function zoomTo(transform, { animate = false } = {}) {
    const t = d3.zoomIdentity.translate(transform.x, transform.y).scale(transform.k);
    (animate ? svg.transition().duration(animate === true ? 350 : animate) : svg.interrupt()).call(zoom.transform, t);
  }

  /** The element that stands for item `id` (the keyboard's active descendant). */
  function focusElement(id) {
    const r = records.get(id);
    return r ? (r.n.kind === "frame" ? r.head : r.el) : null;
  }

  /** The keyboard's ring around `rect` ({x, y, w, h, r} in scene units), or none. */
  function setFocusRing(rect) {
    ring = rect;
    ringLayer.style("display", rect ? null : "none");
    placeRing(d3.zoomTransform(svg.node()).k);
  }

  // The ring keeps its width and its distance from the node in screen pixels at any zoom
  // (non-scaling strokes; the offsets are divided by the zoom).
  function placeRing(k) {
    if (!ring) return;
    const at = (rectEl, px) => rectEl.attr("x", ring.x - px / k).attr("y", ring.y - px / k)
      .attr("width", ring.w + (2 * px) / k).attr("height", ring.h + (2 * px) / k).attr("rx", ring.r + px / k);
    at(ringHalo, RING.halo.at);
    at(ringLine, RING.line.at);
  }

  return {
    element: svg.node(),
    setScene, setDecor, zoomTo, focusElement, setFocusRing, size,
    transform: () => d3.zoomTransform(svg.node()),
    svg: () => svg.node(),
    scene: () => current,
    show(on) { svg.style("display", on ? null : "none"); },
  };
}

function fontSize(font) {
  return Number(/([\d.]+)px/.exec(font)[1]);
}

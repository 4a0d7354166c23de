// The SVG graph renderer (D3). It draws a plain scene — nodes with positions and sizes, edges with
// polylines — and a per-step "decoration" — node text, highlight roles, gradient flows. It never reads
// the trace or the page state; a Canvas renderer with the same two calls could replace it.
import * as d3 from "../vendor/d3/d3.js";
import { FONTS } from "./scene.js";

const line = d3.line().curve(d3.curveBasis);

export function createGraphView(container, { onSelect, onActivate }) {
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
  let lastText = new Map();
  let lastFlowKey = "";

  const zoom = d3.zoom().scaleExtent([0.03, 6]).on("zoom", (event) => viewport.attr("transform", event.transform));
  svg.call(zoom).on("dblclick.zoom", null);
  svg.on("click", (event) => { if (event.target === svg.node()) onSelect(null); });

  function size() {
    const r = container.getBoundingClientRect();
    return { W: Math.max(r.width, 50), H: Math.max(r.height, 50) };
  }

  /** Draw a new scene (after a layout). */
  function setScene(sc) {
    current = sc;
    nodeById = new Map(sc.nodes.map((n) => [n.id, n]));
    edgeByKey = new Map(sc.edges.map((e) => [`${e.source}->${e.target}`, e]));
    lastText = new Map();
    lastFlowKey = "";
    const m = sc.metrics;

    edgeLayer.selectAll("path.edge")
      .data(sc.edges, (e) => `${e.source}->${e.target}`)
      .join("path")
      .attr("class", "edge")
      .attr("d", (e) => line(e.points))
      .attr("marker-end", "url(#arrow)");

    const nodes = nodeLayer.selectAll("g.node")
      .data(sc.nodes, (n) => n.id)
      .join((enter) => {
        const g = enter.append("g").attr("tabindex", 0).attr("role", "button");
        g.each(function (n) {
          const el = d3.select(this);
          if (n.kind === "op") {
            el.append("rect").attr("class", "shape");
            el.append("text").attr("class", "t-op");
            el.append("title");
          } else {
            el.append("rect").attr("class", "shape");
            const title = el.append("text").attr("class", "t-title");
            title.append("tspan").attr("class", "t-name");
            title.append("tspan").attr("class", "t-meta");
            el.append("text").attr("class", "t-value");
            el.append("text").attr("class", "t-grad");
          }
        });
        return g;
      });
    nodes
      .attr("class", (n) => `node ${n.kind}${n.role ? ` role-${n.role}` : ""}`)
      .attr("data-id", (n) => n.id)
      .attr("transform", (n) => `translate(${n.x - n.w / 2},${n.y - n.h / 2})`)
      .on("click", (event, n) => { event.stopPropagation(); onSelect(n.id); })
      .on("keydown", (event, n) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); event.stopPropagation(); onActivate(n.id); }
      });
    nodes.select("rect.shape")
      .attr("width", (n) => n.w).attr("height", (n) => n.h)
      .attr("rx", (n) => (n.kind === "op" ? n.h / 2 : 6));
    nodes.filter((n) => n.kind === "op").select("text.t-op")
      .attr("x", (n) => n.w / 2).attr("y", (n) => n.h / 2).attr("dy", "0.35em")
      .attr("font-size", m.op).attr("font-family", FONTS.sans);
    const tensors = nodes.filter((n) => n.kind === "tensor");
    let y = m.padY;
    tensors.select("text.t-title").attr("x", m.padX).attr("y", (y += m.lineTitle) - 4).attr("font-family", FONTS.sans);
    tensors.select("tspan.t-name").attr("font-size", m.title);
    tensors.select("tspan.t-meta").attr("font-size", m.meta).attr("dx", m.gap);
    tensors.select("text.t-value").attr("x", m.padX).attr("y", (y += m.lineValue) - 4).attr("font-size", m.value).attr("font-family", FONTS.mono);
    tensors.select("text.t-grad").attr("x", m.padX).attr("y", (y += m.lineValue) - 4).attr("font-size", m.value).attr("font-family", FONTS.mono);
    svg.classed("empty", sc.nodes.length === 0);
  }

  /** Update text, highlight roles and gradient flows for one step. Only changed text is touched. */
  function setDecor(decor) {
    if (!current) return;
    const { lines, roles, flows, selected, lineNodes, stepping, backward } = decor;
    const nodes = nodeLayer.selectAll("g.node");
    nodes.each(function (n) {
      const l = lines.get(n.id);
      if (!l) return;
      const key = `${l.title}\u0000${l.meta}\u0000${l.value}\u0000${l.grad}\u0000${l.tooltip}`;
      if (lastText.get(n.id) === key) return;
      lastText.set(n.id, key);
      const el = d3.select(this);
      el.attr("aria-label", l.aria);
      if (n.kind === "op") {
        el.select("text.t-op").text(l.title);
        el.select("title").text(l.tooltip);
      } else {
        el.select("tspan.t-name").text(l.title);
        el.select("tspan.t-meta").text(l.meta);
        el.select("text.t-value").text(l.value).classed("hidden-value", l.value === "…");
        el.select("text.t-grad").text(l.grad ?? "").classed("pending", l.grad === "∇ …");
      }
    });
    nodes
      .classed("hl-active", (n) => roles.get(n.id) === "active")
      .classed("hl-input", (n) => roles.get(n.id) === "input")
      .classed("hl-output", (n) => roles.get(n.id) === "output")
      .classed("hl-grad-in", (n) => roles.get(n.id) === "grad-in")
      .classed("hl-grad-out", (n) => roles.get(n.id) === "grad-out")
      .classed("hl-accumulate", (n) => roles.get(n.id) === "accumulate")
      .classed("selected", (n) => selected === n.id)
      .classed("on-line", (n) => lineNodes.has(n.id))
      .attr("aria-pressed", (n) => (selected === n.id ? "true" : "false"));
    svg.classed("stepping", stepping).classed("backward", backward);
    edgeLayer.selectAll("path.edge").attr("marker-end", backward ? null : "url(#arrow)").attr("marker-start", backward ? "url(#arrow)" : null);
    drawFlows(flows, backward);
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

  /** Fit the whole graph (or, when it would be unreadably small, a readable part ending at the root). */
  function fit({ animate = true, whole = false, focus = null } = {}) {
    if (!current || !current.nodes.length) return;
    const { W, H } = size();
    const pad = 16;
    const k = Math.min((W - 2 * pad) / current.width, (H - 2 * pad) / current.height, 1.6);
    let transform;
    const minReadable = 0.45;
    if (!whole && k < minReadable) {
      const target = focus ?? current.nodes[current.nodes.length - 1];
      const kk = 0.8;
      transform = d3.zoomIdentity.translate(W / 2 - target.x * kk, H - pad - target.y * kk - target.h * kk).scale(kk);
    } else {
      transform = d3.zoomIdentity
        .translate((W - current.width * k) / 2, (H - current.height * k) / 2)
        .scale(k);
    }
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
    nodeLayer.selectAll("g.node").filter((n) => n.id === id).node()?.focus();
  }

  return { setScene, setDecor, fit, reveal, focusNode, svg: () => svg.node(), scene: () => current };
}

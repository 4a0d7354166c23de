// The canvas renderer for large scenes: one <canvas>, redrawn in an animation frame whenever the view
// or the decoration changes. Only what is in view is drawn (culling), and what is drawn depends on the
// zoom (level of detail): text only where it is readable, plain boxes and straight edges when zoomed
// far out. Same calls as the SVG renderer (svg-view.js); hit-testing replaces per-element events.
import * as d3 from "../vendor/d3/d3.js";
import { PALETTE, textRuns, headerRun, toggleBox } from "./paint.js";
import { viewRect } from "./camera.js";
import { RING } from "./graph-keyboard.js";

const TEXT_MIN_SCALE = 0.35; // below: no text (under ~4 px)
const DETAIL_MIN_SCALE = 0.12; // below: boxes without borders, straight edges, no arrows
const basis = d3.line().curve(d3.curveBasis);

export function createCanvasView(container, { onSelect, onToggle, onZoom = () => {} }) {
  const canvas = document.createElement("canvas");
  canvas.className = "grafo-canvas";
  // Pixels only: the keyboard's stand-in (graph-keyboard.js) says what the keyboard is on.
  canvas.setAttribute("aria-hidden", "true");
  container.appendChild(canvas);
  const ctx = canvas.getContext("2d");
  let current = null;
  let decor = null;
  let edgeBoxes = [];
  let runsCache = new Map(); // id -> {key, runs}
  let frameReq = 0;
  let t = d3.zoomIdentity;
  let W = 0;
  let H = 0;
  let dpr = 1;
  let pulses = []; // {points, role, start}
  let ring = null; // the keyboard's ring: a rect in scene units

  // A pan that follows the step keeps its zoom all the way (d3's default flies out and back in).
  const zoom = d3.zoom().scaleExtent([0.01, 6]).interpolate(d3.interpolate).on("zoom", (event) => {
    t = event.transform;
    draw();
    onZoom(t);
  });
  d3.select(canvas).call(zoom).on("dblclick.zoom", null);

  function resize() {
    const r = container.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    W = Math.max(r.width, 50);
    H = Math.max(r.height, 50);
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    canvas.style.width = `${W}px`;
    canvas.style.height = `${H}px`;
  }
  new ResizeObserver(() => { if (canvas.style.display !== "none") { resize(); draw(); } }).observe(container);

  function draw() {
    if (!frameReq) frameReq = requestAnimationFrame(paint);
  }

  // ---- hit testing -----------------------------------------------------------------------------
  function hit(event) {
    if (!current) return null;
    const [px, py] = d3.pointer(event, canvas);
    const x = (px - t.x) / t.k;
    const y = (py - t.y) / t.k;
    const m = current.metrics;
    for (let i = current.nodes.length - 1; i >= 0; i--) {
      const n = current.nodes[i];
      if (n.kind === "port") continue;
      const x0 = n.x - n.w / 2;
      const y0 = n.y - n.h / 2;
      if (x < x0 || x > x0 + n.w || y < y0 || y > y0 + n.h) continue;
      if (n.kind === "group") {
        const b = toggleBox("group", m);
        if (x >= x0 + b.x - 3 && x <= x0 + b.x + b.s + 3 && y >= y0 + b.y - 3 && y <= y0 + b.y + b.s + 3) return { id: n.id, toggle: true };
      }
      return { id: n.id };
    }
    for (let i = current.frames.length - 1; i >= 0; i--) {
      const f = current.frames[i];
      if (x < f.x || x > f.x + f.w || y < f.y || y > f.y + m.header) continue;
      const b = toggleBox("frame", m);
      return { id: f.id, toggle: x <= f.x + b.x + b.s + 4 };
    }
    return null;
  }
  canvas.addEventListener("click", (event) => {
    const h = hit(event);
    if (h?.toggle) onToggle(h.id);
    else onSelect(h?.id ?? null);
  });
  canvas.addEventListener("dblclick", (event) => {
    const h = hit(event);
    if (h?.id?.startsWith("g:")) onToggle(h.id);
  });
  let hoverTimer = 0;
  canvas.addEventListener("mousemove", (event) => {
    if (hoverTimer) return;
    hoverTimer = setTimeout(() => {
      hoverTimer = 0;
      const h = hit(event);
      const l = h && decor?.lines.get(h.id);
      canvas.title = l ? (l.tooltip ?? l.title ?? "") : "";
      canvas.style.cursor = h ? "pointer" : "";
    }, 60);
  });

  // ---- drawing ---------------------------------------------------------------------------------
  function roundRect(x, y, w, h, r) {
    ctx.beginPath();
    ctx.roundRect(x, y, w, h, Math.min(r, w / 2, h / 2));
  }

  function styleOf(n) {
    if (n.kind === "op") return PALETTE.role.op;
    if (n.kind === "group") return PALETTE.role.group;
    if (n.kind === "ref") return { ...PALETTE.role.ref, stroke: PALETTE.role[n.role]?.stroke ?? PALETTE.role.ref.stroke };
    return PALETTE.role[n.role] ?? PALETTE.role.intermediate;
  }

  function runsOf(n) {
    const l = decor?.lines.get(n.id);
    if (!l) return [];
    const key = n.kind === "group" ? `${l.title}|${l.meta}|${l.inputs}|${l.outs.map((o) => `${o.value}|${o.grad}`).join("|")}`
      : `${l.title}|${l.meta}|${l.value}|${l.grad}`;
    const c = runsCache.get(n.id);
    if (c && c.key === key) return c.runs;
    const runs = textRuns(n.kind, l, n.w, n.h, current.metrics);
    runsCache.set(n.id, { key, runs });
    return runs;
  }

  function textColour(cls) {
    if (cls.startsWith("t-grad")) return cls.includes("pending") ? PALETTE.gradPending : PALETTE.gradText;
    if (cls.includes("hidden-value")) return PALETTE.hidden;
    if (cls === "t-meta" || cls === "t-in") return PALETTE.meta;
    return PALETTE.text;
  }

  function paint() {
    frameReq = 0;
    if (!current || canvas.style.display === "none") return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, W, H);
    ctx.setTransform(dpr * t.k, 0, 0, dpr * t.k, dpr * t.x, dpr * t.y);
    const [x0, y0, x1, y1] = viewRect(t, W, H, 20);
    const inView = (a, b, c, d) => a <= x1 && c >= x0 && b <= y1 && d >= y0;
    const m = current.metrics;
    const k = t.k;
    const text = k >= TEXT_MIN_SCALE;
    const detail = k >= DETAIL_MIN_SCALE;
    const stepping = decor?.stepping;
    const roles = decor?.roles ?? new Map();
    const dim = (id) => stepping && !roles.has(id) && decor.selected !== id;

    // Frames of expanded groups, outermost first.
    for (const f of current.frames) {
      if (!inView(f.x, f.y, f.x + f.w, f.y + f.h)) continue;
      ctx.globalAlpha = stepping && !roles.has(f.id) ? 0.6 : 1;
      ctx.fillStyle = PALETTE.frame[Math.min(f.depth - 1, PALETTE.frame.length - 1)] ?? PALETTE.frame[0];
      roundRect(f.x, f.y, f.w, f.h, 8);
      ctx.fill();
      ctx.lineWidth = (decor?.selected === f.id ? 3 : roles.has(f.id) ? 2.5 : 1.2);
      ctx.strokeStyle = decor?.selected === f.id || roles.has(f.id) ? PALETTE.selected : PALETTE.frameStroke;
      ctx.stroke();
      ctx.fillStyle = PALETTE.frameHead;
      ctx.fillRect(f.x + 1, f.y + 1, f.w - 2, m.header - 2);
      if (text) {
        const l = decor?.lines.get(f.id);
        if (l) {
          const run = headerRun(l.header, m);
          ctx.font = run.font;
          ctx.fillStyle = PALETTE.text;
          ctx.textBaseline = "middle";
          ctx.fillText(l.header, f.x + run.x, f.y + run.y, f.w - run.x - m.framePad);
        }
        drawToggle(toggleBox("frame", m), f.x, f.y, true);
      }
    }
    ctx.globalAlpha = 1;

    // Edges: one path for all the plain ones in view.
    ctx.lineWidth = detail ? 1.4 : 1.4 / Math.max(k * 4, 0.5);
    ctx.strokeStyle = PALETTE.edge;
    ctx.globalAlpha = stepping ? 0.35 : 1;
    ctx.beginPath();
    basis.context(ctx);
    const arrows = [];
    current.edges.forEach((e, i) => {
      const b = edgeBoxes[i];
      if (!b || !inView(b[0], b[1], b[2], b[3])) return;
      const p = e.points;
      if (detail) {
        basis(p);
        arrows.push(e);
      } else {
        ctx.moveTo(p[0][0], p[0][1]);
        ctx.lineTo(p[p.length - 1][0], p[p.length - 1][1]);
      }
    });
    ctx.stroke();
    if (detail && k >= TEXT_MIN_SCALE) {
      ctx.fillStyle = PALETTE.edge;
      for (const e of arrows) arrowHead(e.points, decor?.backward);
    }
    ctx.globalAlpha = 1;

    // Highlighted edges (the step's values and gradients travelling).
    if (decor?.flows?.length) {
      const edgeOf = current.edgeByKey;
      for (const f of decor.flows) {
        const e = edgeOf.get(f.key);
        if (!e || !e.points.length) continue;
        ctx.beginPath();
        basis(e.points);
        ctx.lineWidth = 3 / Math.min(1, Math.max(k, 0.3));
        ctx.setLineDash(f.role === "no-grad" ? [3, 4] : []);
        ctx.strokeStyle = f.role === "forward" ? PALETTE.edgeHl : f.role === "no-grad" ? PALETTE.flowNo : PALETTE.grad;
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }

    // Nodes.
    for (const n of current.nodes) {
      const nx = n.x - n.w / 2;
      const ny = n.y - n.h / 2;
      if (!inView(nx, ny, nx + n.w, ny + n.h)) continue;
      const role = roles.get(n.id);
      ctx.globalAlpha = dim(n.id) ? 0.38 : 1;
      if (n.kind === "port") {
        ctx.fillStyle = PALETTE.frameStroke;
        ctx.fillRect(nx, ny, n.w, n.h);
        continue;
      }
      const st = styleOf(n);
      let fill = st.fill;
      if (role === "active" && n.kind === "op") fill = PALETTE.active;
      if (role === "accumulate") fill = PALETTE.accumulate;
      if (!detail) {
        ctx.fillStyle = role ? (role.startsWith("grad") || role === "accumulate" ? PALETTE.grad : PALETTE.edgeHl) : st.stroke;
        ctx.fillRect(nx, ny, n.w, n.h);
        continue;
      }
      roundRect(nx, ny, n.w, n.h, n.kind === "op" ? n.h / 2 : n.kind === "group" ? 8 : n.kind === "ref" ? 4 : 6);
      ctx.fillStyle = fill;
      ctx.fill();
      const selected = decor?.selected === n.id;
      const onLine = decor?.lineNodes?.has(n.id);
      let stroke = st.stroke;
      let width = st.width;
      let dash = st.dash ?? [];
      if (role) {
        stroke = role.startsWith("grad") || role === "accumulate" ? PALETTE.grad : PALETTE.edgeHl;
        width = role === "input" ? 2.4 : 3.5;
        dash = [];
      }
      if (onLine) { stroke = PALETTE.selected; width = Math.max(width, 2.5); }
      if (selected) { stroke = PALETTE.selected; width = 3.5; dash = []; }
      ctx.setLineDash(dash);
      ctx.lineWidth = width;
      ctx.strokeStyle = stroke;
      ctx.stroke();
      ctx.setLineDash([]);
      if (n.kind === "group") {
        // A collapsed group: a second border inside the first.
        roundRect(nx + 3, ny + 3, n.w - 6, n.h - 6, 6);
        ctx.lineWidth = 0.8;
        ctx.stroke();
      }
      if (!text) continue;
      if (n.kind === "group") drawToggle(toggleBox("group", m), nx, ny, false);
      for (const run of runsOf(n)) {
        ctx.font = run.font;
        ctx.fillStyle = textColour(run.cls);
        ctx.textAlign = run.anchor === "middle" ? "center" : "left";
        ctx.textBaseline = run.middle ? "middle" : "alphabetic";
        ctx.fillText(run.text, nx + run.x, ny + run.y);
      }
    }
    ctx.globalAlpha = 1;
    ctx.textAlign = "left";
    drawPulses();
    drawRing();
  }

  // The keyboard's ring: in screen pixels (its width and its distance from the node do not change
  // with the zoom), over everything, never dimmed.
  function drawRing() {
    if (!ring) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const x = t.x + ring.x * t.k;
    const y = t.y + ring.y * t.k;
    for (const part of [RING.halo, RING.line]) {
      roundRect(x - part.at, y - part.at, ring.w * t.k + 2 * part.at, ring.h * t.k + 2 * part.at, ring.r * t.k + part.at);
      ctx.lineWidth = part.width;
      ctx.strokeStyle = part.colour;
      ctx.stroke();
    }
  }

  function drawToggle(b, x, y, open) {
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = "#555555";
    ctx.lineWidth = 1;
    ctx.fillRect(x + b.x, y + b.y, b.s, b.s);
    ctx.strokeRect(x + b.x, y + b.y, b.s, b.s);
    ctx.beginPath();
    ctx.moveTo(x + b.x + 3, y + b.y + b.s / 2);
    ctx.lineTo(x + b.x + b.s - 3, y + b.y + b.s / 2);
    if (!open) { ctx.moveTo(x + b.x + b.s / 2, y + b.y + 3); ctx.lineTo(x + b.x + b.s / 2, y + b.y + b.s - 3); }
    ctx.stroke();
  }

  function arrowHead(points, backward) {
    const [a, b] = backward ? [points[1], points[0]] : [points[points.length - 2], points[points.length - 1]];
    if (!a || !b) return;
    const angle = Math.atan2(b[1] - a[1], b[0] - a[0]);
    const s = 7;
    ctx.beginPath();
    ctx.moveTo(b[0], b[1]);
    ctx.lineTo(b[0] - s * Math.cos(angle - 0.45), b[1] - s * Math.sin(angle - 0.45));
    ctx.lineTo(b[0] - s * Math.cos(angle + 0.45), b[1] - s * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
  }

  // A dot runs along each edge a value or gradient travels (about 0.9 s).
  function drawPulses() {
    if (!pulses.length) return;
    const now = performance.now();
    pulses = pulses.filter((p) => now - p.start < 900 + p.delay);
    for (const p of pulses) {
      const u = Math.min(Math.max((now - p.start - p.delay) / 650, 0), 1);
      const eased = u < 0.5 ? 4 * u * u * u : 1 - (-2 * u + 2) ** 3 / 2;
      const [x, y] = along(p.points, p.reverse ? 1 - eased : eased);
      ctx.beginPath();
      ctx.arc(x, y, 4.5, 0, 2 * Math.PI);
      ctx.fillStyle = p.role === "forward" ? PALETTE.edgeHl : PALETTE.grad;
      ctx.fill();
    }
    if (pulses.length) draw();
  }

  function along(points, u) {
    let total = 0;
    const lens = [];
    for (let i = 1; i < points.length; i++) { const d = Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]); lens.push(d); total += d; }
    let target = u * total;
    for (let i = 0; i < lens.length; i++) {
      if (target <= lens[i] || i === lens.length - 1) {
        const f = lens[i] ? Math.min(target / lens[i], 1) : 0;
        return [points[i][0] + (points[i + 1][0] - points[i][0]) * f, points[i][1] + (points[i + 1][1] - points[i][1]) * f];
      }
      target -= lens[i];
    }
    return points[0];
  }

  function setScene(sc) {
    current = sc;
    sc.edgeByKey = new Map(sc.edges.map((e) => [e.key, e]));
    edgeBoxes = sc.edges.map((e) => {
      if (!e.points.length) return null;
      let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
      for (const [x, y] of e.points) { if (x < a) a = x; if (y < b) b = y; if (x > c) c = x; if (y > d) d = y; }
      return [a, b, c, d];
    });
    runsCache = new Map();
    pulses = [];
    draw();
  }

  let lastFlowKey = "";
  function setDecor(d) {
    decor = d;
    const key = d.flows.map((f) => `${f.key}:${f.role}`).join("|");
    if (key !== lastFlowKey) {
      lastFlowKey = key;
      const now = performance.now();
      pulses = d.flows.filter((f) => f.pulse && f.role !== "no-grad").map((f) => {
        const e = current?.edgeByKey.get(f.key);
        return e && e.points.length > 1 ? { points: e.points, role: f.role, reverse: f.role !== "forward", start: now, delay: f.role === "grad-in" ? 0 : 250 } : null;
      }).filter(Boolean);
    }
    draw();
  }

  function zoomTo(transform, { animate = false } = {}) {
    const target = d3.zoomIdentity.translate(transform.x, transform.y).scale(transform.k);
    const sel = d3.select(canvas);
    (animate ? sel.transition().duration(animate === true ? 350 : animate) : sel.interrupt()).call(zoom.transform, target);
  }

  return {
    element: canvas,
    setScene, setDecor, zoomTo,
    focusElement: () => null,
    setFocusRing(rect) { ring = rect; draw(); },
    size() { if (!W) resize(); return { W, H }; },
    transform: () => t,
    scene: () => current,
    show(on) {
      canvas.style.display = on ? "" : "none";
      if (on) { resize(); draw(); }
    },
  };
}

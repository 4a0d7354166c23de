// The minimap: the whole scene small in a corner of the graph, with the part in view outlined. A click
// or a drag moves the view there. The scene is drawn once per layout into an offscreen canvas; moving
// the view only redraws the outline.
import { PALETTE } from "./paint.js";

// Its largest box; the box takes the scene's shape, so that a wide, flat graph (laid out left to
// right) keeps a thin strip of the pane, not a 180×120 block over its nodes.
const MAX_W = 180;
const MAX_H = 120;
const MIN_SIDE = 28;

export function createMinimap(container, { onMove, labelKey }) {
  const canvas = document.createElement("canvas");
  canvas.className = "minimap";
  canvas.setAttribute("role", "img");
  // Its name and tooltip are worded by translatePage (i18n/index.js), again at each change of language.
  canvas.dataset.i18nLabel = labelKey;
  canvas.dataset.i18nTitle = labelKey;
  container.appendChild(canvas);
  const ctx = canvas.getContext("2d");
  let base = null;
  let scene = null;
  let fit = null; // {k, x, y}: scene -> minimap
  let view = null;
  let W = MAX_W;
  let H = MAX_H;

  function setScene(sc) {
    scene = sc;
    const dpr = window.devicePixelRatio || 1;
    const k = Math.min((MAX_W - 8) / Math.max(sc.width, 1), (MAX_H - 8) / Math.max(sc.height, 1));
    W = Math.max(Math.round(sc.width * k) + 8, MIN_SIDE);
    H = Math.max(Math.round(sc.height * k) + 8, MIN_SIDE);
    canvas.style.width = `${W}px`;
    canvas.style.height = `${H}px`;
    canvas.width = W * dpr;
    canvas.height = H * dpr;
    fit = { k, x: (W - sc.width * k) / 2, y: (H - sc.height * k) / 2, dpr };
    base = document.createElement("canvas");
    base.width = canvas.width;
    base.height = canvas.height;
    const b = base.getContext("2d");
    b.setTransform(dpr * k, 0, 0, dpr * k, dpr * fit.x, dpr * fit.y);
    for (const f of sc.frames) {
      b.fillStyle = PALETTE.frame[Math.min(f.depth, PALETTE.frame.length - 1)];
      b.fillRect(f.x, f.y, f.w, f.h);
      b.strokeStyle = PALETTE.frameStroke;
      b.lineWidth = 1 / k;
      b.strokeRect(f.x, f.y, f.w, f.h);
    }
    for (const n of sc.nodes) {
      if (n.kind === "port") continue;
      const st = n.kind === "op" ? PALETTE.role.op : n.kind === "group" ? PALETTE.role.group : PALETTE.role[n.role] ?? PALETTE.role.ref;
      b.fillStyle = n.kind === "op" ? "#777777" : st.stroke;
      b.fillRect(n.x - n.w / 2, n.y - n.h / 2, Math.max(n.w, 1.5 / k), Math.max(n.h, 1.5 / k));
    }
    redraw();
  }

  /** The view changed: transform `t` of a viewport W×H (screen pixels). */
  function setView(t, vw, vh) {
    view = { t, vw, vh };
    redraw();
  }

  function redraw() {
    if (!base || !view) return;
    const { t, vw, vh } = view;
    const x0 = -t.x / t.k;
    const y0 = -t.y / t.k;
    const whole = x0 <= 0 && y0 <= 0 && x0 + vw / t.k >= scene.width && y0 + vh / t.k >= scene.height;
    canvas.hidden = whole || !scene.nodes.length;
    if (canvas.hidden) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(base, 0, 0);
    ctx.setTransform(fit.dpr, 0, 0, fit.dpr, 0, 0);
    ctx.strokeStyle = "#0072b2";
    ctx.lineWidth = 1.5;
    ctx.fillStyle = "rgba(0, 114, 178, 0.08)";
    const rx = fit.x + x0 * fit.k;
    const ry = fit.y + y0 * fit.k;
    const rw = Math.max((vw / t.k) * fit.k, 3);
    const rh = Math.max((vh / t.k) * fit.k, 3);
    ctx.fillRect(rx, ry, rw, rh);
    ctx.strokeRect(rx, ry, rw, rh);
  }

  let dragging = false;
  const move = (event) => {
    if (!fit) return;
    const r = canvas.getBoundingClientRect();
    const px = ((event.clientX - r.left) / r.width) * W;
    const py = ((event.clientY - r.top) / r.height) * H;
    onMove((px - fit.x) / fit.k, (py - fit.y) / fit.k);
  };
  canvas.addEventListener("pointerdown", (event) => {
    dragging = true;
    canvas.setPointerCapture(event.pointerId);
    move(event);
    event.stopPropagation();
  });
  canvas.addEventListener("pointermove", (event) => { if (dragging) move(event); });
  canvas.addEventListener("pointerup", () => { dragging = false; });

  /** The bottom-right corner of the pane the minimap covers when it shows (with its margin): {w, h}. */
  const corner = () => ({ w: W + 8, h: H + 8 });

  return { setScene, setView, corner, element: canvas };
}

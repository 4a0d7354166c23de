// The graph's renderer: SVG for small scenes (elements with focus, titles and CSS; also every export),
// canvas for large ones (culling and level of detail keep pan and zoom at the display's frame rate).
// Same calls whichever draws; the camera (view-camera.js) moves whichever is shown; the keyboard
// (graph-keyboard.js) reaches the nodes of either through one Tab stop.
import { createSvgView } from "./svg-view.js";
import { createCanvasView } from "./canvas-view.js";
import { createViewCamera } from "./view-camera.js";
import { createGraphKeyboard } from "./graph-keyboard.js";

export const SVG_MAX = 400; // scene nodes and frames drawn as SVG elements; more go to the canvas

export function createGraphView(container, { onSelect, onActivate, onToggle }) {
  const zoomListeners = [];
  const onZoom = (t) => { for (const fn of zoomListeners) fn(t); };
  const callbacks = { onSelect, onToggle, onZoom };
  const svgView = createSvgView(container, callbacks);
  let canvasView = null;
  let active = svgView;
  let scene = null;
  let decor = null;
  const camera = createViewCamera(container, { renderer: () => active, scene: () => scene, onZoom: (fn) => zoomListeners.push(fn) });
  const keyboard = createGraphKeyboard(container, {
    scene: () => scene,
    decor: () => decor,
    renderer: () => active,
    reveal: (r) => camera.revealBox({ x: r.x + r.w / 2, y: r.y + r.h / 2, w: r.w, h: r.h }),
    activate,
    viewCentre: () => { const { W, H } = size(); const t = active.transform(); return [(W / 2 - t.x) / t.k, (H / 2 - t.y) / t.k]; },
  });

  /** Enter or Space on an item: what a click does; a group is also opened or closed (as ⊞ and ⊟ do). */
  function activate(id) {
    if (id.startsWith("g:")) { onSelect(id); onToggle(id); }
    else if (id.startsWith("r:")) onSelect(id); // a reference: its tensor
    else onActivate(id);
  }

  function setScene(sc) {
    scene = sc;
    const big = sc.nodes.length + sc.frames.length > SVG_MAX;
    const next = big ? (canvasView ??= createCanvasView(container, callbacks)) : svgView;
    if (next !== active) {
      const t = active.transform();
      active.show(false);
      active = next;
      active.show(true);
      active.zoomTo(t);
    }
    if (canvasView && active !== canvasView) canvasView.show(false);
    active.setScene(sc);
    container.dataset.renderer = big ? "canvas" : "svg";
    keyboard.sceneChanged();
  }

  function setDecor(d) {
    decor = d;
    active.setDecor(d);
    keyboard.decorChanged();
  }

  const size = () => active.size();
  const boxOf = (id) => scene?.pos.get(id) ?? null;

  /** The whole scene, or a readable part of it around `focus` (an id): see view-camera.js. */
  function fit({ focus = null, ...options } = {}) {
    camera.fit({ ...options, focus: focus ? boxOf(focus) : null });
  }

  /** Bring item `id` into view without changing the zoom. Returns false when it is not drawn. */
  function reveal(id, { animate = true } = {}) {
    const box = boxOf(id);
    if (!box) return false;
    camera.revealBox(box, { animate });
    return true;
  }

  /** The SVG of the whole scene with the current decoration (drawn off screen when the canvas shows it). */
  function svg() {
    if (active === svgView) return svgView.svg();
    const holder = document.createElement("div");
    holder.style.cssText = "position:absolute;left:-10000px;top:0;width:800px;height:600px;visibility:hidden";
    document.body.appendChild(holder);
    const off = createSvgView(holder, { onSelect() {}, onToggle() {} });
    off.setScene(scene);
    if (decor) off.setDecor({ ...decor, flows: [] });
    setTimeout(() => holder.remove(), 0);
    return off.svg();
  }

  return {
    setScene, setDecor, fit, reveal, svg, size,
    centerOn: camera.centerOn,
    zoomTo: camera.moveTo,
    moving: camera.moving,
    transform: () => active.transform(),
    focusNode: (id) => keyboard.focus(id),
    scene: () => scene,
    renderer: () => (active === svgView ? "svg" : "canvas"),
    onZoom: (fn) => zoomListeners.push(fn),
  };
}

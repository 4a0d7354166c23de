// The graph's renderer: SVG for small scenes (elements with focus, titles and CSS; also every export),
// canvas for large ones (culling and level of detail keep pan and zoom at the display's frame rate).
// Same calls whichever draws; the camera (camera.js) moves whichever is shown.
import { createSvgView } from "./svg-view.js";
import { createCanvasView } from "./canvas-view.js";
import { initialTransform, revealTransform, centerTransform } from "./camera.js";

export const SVG_MAX = 400; // scene nodes and frames drawn as SVG elements; more go to the canvas

export function createGraphView(container, { onSelect, onActivate, onToggle }) {
  const zoomListeners = [];
  const onZoom = (t) => { for (const fn of zoomListeners) fn(t); };
  const callbacks = { onSelect, onActivate, onToggle, onZoom };
  const svgView = createSvgView(container, callbacks);
  let canvasView = null;
  let active = svgView;
  let scene = null;
  let decor = null;

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
  }

  function setDecor(d) {
    decor = d;
    active.setDecor(d);
  }

  const size = () => active.size();
  const boxOf = (id) => scene?.pos.get(id) ?? null;

  /** The whole scene, or a readable part of it around `focus` (an id) when the whole is too small to read. */
  function fit({ animate = true, whole = false, focus = null } = {}) {
    if (!scene || !scene.nodes.length) return;
    const { W, H } = size();
    const f = focus ? boxOf(focus) : null;
    active.zoomTo(initialTransform(scene, W, H, { whole, focus: f }), { animate });
  }

  /** Bring item `id` into view without changing the zoom. Returns false when it is not drawn. */
  function reveal(id, { animate = true } = {}) {
    const box = boxOf(id);
    if (!box) return false;
    const { W, H } = size();
    const t = revealTransform(active.transform(), box, W, H);
    if (t) active.zoomTo(t, { animate: animate ? 300 : false });
    return true;
  }

  function centerOn(x, y, { animate = false, k } = {}) {
    const { W, H } = size();
    active.zoomTo(centerTransform(active.transform(), x, y, W, H, k), { animate });
  }

  /** The SVG of the whole scene with the current decoration (drawn off screen when the canvas shows it). */
  function svg() {
    if (active === svgView) return svgView.svg();
    const holder = document.createElement("div");
    holder.style.cssText = "position:absolute;left:-10000px;top:0;width:800px;height:600px;visibility:hidden";
    document.body.appendChild(holder);
    const off = createSvgView(holder, { onSelect() {}, onActivate() {}, onToggle() {} });
    off.setScene(scene);
    if (decor) off.setDecor({ ...decor, flows: [] });
    setTimeout(() => holder.remove(), 0);
    return off.svg();
  }

  return {
    setScene, setDecor, fit, reveal, centerOn, svg, size,
    zoomTo: (t, opts) => active.zoomTo(t, opts),
    transform: () => active.transform(),
    focusNode: (id) => active.focusNode(id),
    scene: () => scene,
    renderer: () => (active === svgView ? "svg" : "canvas"),
    onZoom: (fn) => zoomListeners.push(fn),
  };
}

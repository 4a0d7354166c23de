// The graph pane's camera over whichever renderer draws (graph-view.js): it fits, reveals and
// centres (the transforms come from camera.js), and keeps the view sensible when the pane changes size
// (the chain-rule panel under the graph is one line at forward steps, taller at backward ones): a view
// still where the last fit left it fits again; a view moved since keeps its zoom, without an empty
// band past the scene's edge.
import { initialTransform, revealTransform, centerTransform, clampTransform } from "./camera.js";

const same = (a, b) => Math.abs(a.x - b.x) < 0.5 && Math.abs(a.y - b.y) < 0.5 && Math.abs(a.k - b.k) < 1e-6;

/** `renderer()`: the view that draws now; `scene()`: its scene; `onZoom(fn)`: listen to its transform. */
export function createViewCamera(container, { renderer, scene, onZoom }) {
  let fitted = null; // {options, t}: the last fit, and where it left the camera
  let heading = null; // where an animated move is going, until it gets there

  const size = () => renderer().size();

  function moveTo(t, { animate = false } = {}) {
    heading = animate ? t : null;
    renderer().zoomTo(t, { animate });
  }
  onZoom((t) => { if (heading && same(t, heading)) heading = null; });

  /**
   * The whole scene, or a readable part of it around `focus` (a scene box) when the whole is too small
   * to read: `readable` is the smallest zoom allowed, `corner` {w, h} what the minimap covers.
   */
  function fit({ animate = true, whole = false, focus = null, readable = 0, corner = null } = {}) {
    const sc = scene();
    if (!sc || !sc.nodes.length) return;
    const { W, H } = size();
    const t = initialTransform(sc, W, H, { whole, focus, readable, corner });
    moveTo(t, { animate });
    fitted = { options: { whole, focus, readable, corner }, t };
  }

  /**
   * Pan so that `box` ({x, y, w, h}: centre and size) is in view, if it is not. A move under way is
   * judged where it ends: steps pressed in quick succession each get their node in view.
   */
  function revealBox(box, { animate = true } = {}) {
    const { W, H } = size();
    const t = revealTransform(heading ?? renderer().transform(), box, W, H, 24, scene());
    if (t) moveTo(t, { animate: animate ? 300 : false });
  }

  function centerOn(x, y, { animate = false, k } = {}) {
    const { W, H } = size();
    moveTo(centerTransform(renderer().transform(), x, y, W, H, k), { animate });
  }

  new ResizeObserver(() => {
    const sc = scene();
    // A move under way was aimed at the pane's new size (the step's explanation is drawn first).
    if (!sc || !sc.nodes.length || heading) return;
    const t = renderer().transform();
    if (fitted && same(t, fitted.t)) return fit({ ...fitted.options, animate: false });
    const { W, H } = size();
    const clamped = clampTransform(t, sc, W, H);
    if (!same(t, clamped)) moveTo(clamped);
  }).observe(container);

  return { fit, revealBox, centerOn, moveTo, moving: () => heading !== null };
}

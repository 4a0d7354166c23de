// Where the camera looks, as {x, y, k} (screen = scene * k + (x, y)): the initial view, fitting the
// whole scene, keeping a node in view, centring on a point. Shared by both renderers and the minimap.

const PAD = 16; // screen pixels between the scene and the pane's edge
const MAX_FIT = 1.6; // a tiny graph is not blown up past this

/**
 * The zoom at which a node's value text (metrics `m`, scene.js) is `px` pixels high on screen: the
 * smallest zoom a first view may have (12 px at a desk, 20 px on a projector).
 */
export function readableZoom(m, px) {
  return px / m.value;
}

/** The zoom that shows the whole of a w×h scene in a W×H pane. */
export function fitZoom(w, h, W, H) {
  return Math.min((W - 2 * PAD) / Math.max(w, 1), (H - 2 * PAD) / Math.max(h, 1), MAX_FIT);
}

/**
 * The whole scene when it is readable at that size (or `whole` is asked for); else the scene at the
 * readable zoom `readable`, around `focus` (a scene box; default: the last node), filling the pane.
 * `corner`: {w, h}, the screen pixels that something else covers at the bottom right (the minimap) when
 * the scene does not fit; when a node would be under it, the view keeps above it.
 */
export function initialTransform(scene, W, H, { whole = false, focus = null, readable = 0, corner = null } = {}) {
  const k = fitZoom(scene.width, scene.height, W, H);
  if (whole || k >= readable || !scene.nodes.length) return { x: (W - scene.width * k) / 2, y: (H - scene.height * k) / 2, k };
  const target = focus ?? scene.nodes[scene.nodes.length - 1];
  const around = (h) => clampTransform(centerTransform(null, target.x, target.y, W, h, readable), scene, W, h);
  const t = around(H);
  return corner && covers(t, scene, W - corner.w, H - corner.h) ? around(H - corner.h) : t;
}

/** Whether a node of the scene, seen through `t`, reaches right of x0 and below y0 (screen pixels). */
function covers(t, scene, x0, y0) {
  return scene.nodes.some((n) => t.x + (n.x + n.w / 2) * t.k > x0 && t.y + (n.y + n.h / 2) * t.k > y0);
}

/**
 * Along each axis: a scene larger than the pane covers it (no empty band past the scene's end), a
 * smaller one is centred.
 */
export function clampTransform(t, scene, W, H) {
  const axis = (pos, size, view) => {
    const s = size * t.k;
    if (s + 2 * PAD <= view) return (view - s) / 2;
    return Math.min(PAD, Math.max(view - PAD - s, pos));
  };
  return { x: axis(t.x, scene.width, W), y: axis(t.y, scene.height, H), k: t.k };
}

/**
 * The same zoom, panned so that the box {x, y, w, h} (centre and size) is inside the view; null if it
 * is already. With `scene`, the pan stops at the scene's edges.
 */
export function revealTransform(t, box, W, H, margin = 24, scene = null) {
  const sx = t.x + box.x * t.k;
  const sy = t.y + box.y * t.k;
  const hw = (box.w * t.k) / 2;
  const hh = (box.h * t.k) / 2;
  if (sx - hw >= margin && sx + hw <= W - margin && sy - hh >= margin && sy + hh <= H - margin) return null;
  if (sx > margin && sx < W - margin && sy > margin && sy < H - margin && (hw * 2 > W || hh * 2 > H)) return null;
  const centred = centerTransform(t, box.x, box.y, W, H);
  return scene ? clampTransform(centred, scene, W, H) : centred;
}

/** Centre on scene point (x, y), at zoom `k` (default: the current one). */
export function centerTransform(t, x, y, W, H, k = t.k) {
  return { x: W / 2 - x * k, y: H / 2 - y * k, k };
}

/** The scene rectangle in view: [x0, y0, x1, y1]. */
export function viewRect(t, W, H, margin = 0) {
  return [(-margin - t.x) / t.k, (-margin - t.y) / t.k, (W + margin - t.x) / t.k, (H + margin - t.y) / t.k];
}

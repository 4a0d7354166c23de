// Where the camera looks, as {x, y, k} (screen = scene * k + (x, y)): the initial view, fitting the
// whole scene, keeping a node in view, centring on a point. Shared by both renderers and the minimap.

export const MIN_READABLE = 0.45; // below this zoom the initial view shows a readable part instead
export const FOCUS_SCALE = 0.8;

/** The whole scene, or, when that would be unreadably small, a readable part around `focus` (default: the last node). */
export function initialTransform(scene, W, H, { whole = false, focus = null } = {}) {
  const pad = 16;
  const k = Math.min((W - 2 * pad) / Math.max(scene.width, 1), (H - 2 * pad) / Math.max(scene.height, 1), 1.6);
  if (!whole && k < MIN_READABLE && scene.nodes.length) {
    const target = focus ?? scene.nodes[scene.nodes.length - 1];
    const kk = FOCUS_SCALE;
    return { x: W / 2 - target.x * kk, y: Math.min(H / 2, H - pad - target.h * kk / 2) - target.y * kk, k: kk };
  }
  return { x: (W - scene.width * k) / 2, y: (H - scene.height * k) / 2, k };
}

/** The same zoom, panned so that the box {x, y, w, h} (centre and size) is inside the view; null if it is already. */
export function revealTransform(t, box, W, H, margin = 24) {
  const sx = t.x + box.x * t.k;
  const sy = t.y + box.y * t.k;
  const hw = (box.w * t.k) / 2;
  const hh = (box.h * t.k) / 2;
  if (sx - hw >= margin && sx + hw <= W - margin && sy - hh >= margin && sy + hh <= H - margin) return null;
  if (sx > margin && sx < W - margin && sy > margin && sy < H - margin && (hw * 2 > W || hh * 2 > H)) return null;
  return centerTransform(t, box.x, box.y, W, H);
}

/** Centre on scene point (x, y), at zoom `k` (default: the current one). */
export function centerTransform(t, x, y, W, H, k = t.k) {
  return { x: W / 2 - x * k, y: H / 2 - y * k, k };
}

/** The scene rectangle in view: [x0, y0, x1, y1]. */
export function viewRect(t, W, H, margin = 0) {
  return [(-margin - t.x) / t.k, (-margin - t.y) / t.k, (W + margin - t.x) / t.k, (H + margin - t.y) / t.k];
}

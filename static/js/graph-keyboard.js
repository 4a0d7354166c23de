// The graph's nodes by keyboard, with one Tab stop however large the graph (WAI-ARIA's
// aria-activedescendant pattern), the same for both renderers. The graph's container keeps the DOM
// focus; the item the keyboard is on is its active descendant: the SVG renderer's own element for it,
// or, on the canvas (no element per node), a visually hidden stand-in carrying the item's words.
//
// Tab enters on the selected item, else on the current step's; the arrow keys go to the nearest item
// that way on screen (tensors, ops, references, collapsed groups, open groups' headers); Enter or Space
// does what a click does (a group also opens or closes, as ⊞ and ⊟ do); Escape leaves the items, and
// the arrow keys drive the step player again, as they do after a mouse click in the graph (Enter comes
// back). The renderer draws the ring (setFocusRing) and the camera keeps the item in view.

// The ring around the keyboard's item, drawn by both renderers, in screen pixels out from the item's
// edge (`at`: the middle of the stroke): a white halo clear of the node's own border, then a near-black
// ring, 17:1 against the pane's white and at least 12:1 against any group's frame.
export const RING = {
  halo: { at: 2.5, width: 1.5, colour: "#ffffff" },
  line: { at: 4.5, width: 3, colour: "#1a1a1a" },
};

// Which of the step's items Tab enters on when nothing is selected.
const ROLE_RANK = { active: 5, accumulate: 4, output: 3, "grad-out": 3, "grad-in": 2, input: 2 };
const DIRECTIONS = { ArrowLeft: ["x", -1], ArrowRight: ["x", 1], ArrowUp: ["y", -1], ArrowDown: ["y", 1] };

/** The box the keyboard's ring goes around, top-left based: a node's shape, or an open group's header. */
export function itemRect(scene, id) {
  const f = scene?.frames.find((fr) => fr.id === id);
  if (f) return { x: f.x, y: f.y, w: f.w, h: scene.metrics.header, r: 8 };
  const n = scene?.byId?.get(id) ?? scene?.nodes.find((nd) => nd.id === id);
  if (!n || n.kind === "port" || n.kind === "frame") return null;
  const r = n.kind === "op" ? n.h / 2 : n.kind === "ref" ? 4 : n.kind === "group" ? 8 : 6;
  return { x: n.x - n.w / 2, y: n.y - n.h / 2, w: n.w, h: n.h, r };
}

/** Every item the keyboard can go to, as boxes {id, x0, y0, x1, y1}. */
function targets(scene) {
  const out = [];
  for (const f of scene.frames) out.push({ id: f.id, x0: f.x, y0: f.y, x1: f.x + f.w, y1: f.y + scene.metrics.header });
  for (const n of scene.nodes) {
    if (n.kind !== "port") out.push({ id: n.id, x0: n.x - n.w / 2, y0: n.y - n.h / 2, x1: n.x + n.w / 2, y1: n.y + n.h / 2 });
  }
  return out;
}

/**
 * The item nearest to `from` in direction `key` (an arrow key): its centre must lie that way; the gap
 * between the facing sides counts once, a gap across the direction twice (the next node in the same
 * row or column wins over a closer one diagonally), and the offset of the centres breaks ties.
 */
export function nearestItem(scene, fromId, key) {
  const [axis, sign] = DIRECTIONS[key];
  const other = axis === "x" ? "y" : "x";
  const boxes = targets(scene);
  const from = boxes.find((b) => b.id === fromId);
  if (!from) return null;
  const centre = (b, a) => (b[`${a}0`] + b[`${a}1`]) / 2;
  const gapBetween = (a0, a1, b0, b1) => Math.max(0, b0 - a1, a0 - b1);
  let best = null;
  let bestScore = Infinity;
  for (const b of boxes) {
    if (b.id === fromId || sign * (centre(b, axis) - centre(from, axis)) <= 1) continue;
    const along = gapBetween(from[`${axis}0`], from[`${axis}1`], b[`${axis}0`], b[`${axis}1`]);
    const across = gapBetween(from[`${other}0`], from[`${other}1`], b[`${other}0`], b[`${other}1`]);
    const score = along + 2 * across + 0.25 * Math.abs(centre(b, other) - centre(from, other));
    if (score < bestScore) { bestScore = score; best = b.id; }
  }
  return best;
}

/** The drawn item that shows `id` (a node inside collapsed groups shows as the outermost closed one). */
function shownItem(scene, id) {
  if (!id || scene.byId?.has(id)) return id;
  const tree = scene.tree;
  if (!tree) return null;
  let g = id.startsWith("g:") ? tree.group(id)?.parent : tree.home.get(id);
  while (g && !scene.byId?.has(g)) g = tree.group(g)?.parent;
  return g && g !== tree.root ? g : null;
}

/**
 * Keyboard access for the graph in `container`. `scene()`, `decor()`: what is drawn; `renderer()`: the
 * renderer drawing it (setFocusRing(rect | null), focusElement(id) -> its element or null);
 * `reveal(rect)`: pan so the rect is in view; `activate(id)`: what a click on the item does;
 * `viewCentre()`: the scene point at the view's centre (where Tab enters when there is no better item).
 */
export function createGraphKeyboard(container, { scene, decor, renderer, reveal, activate, viewCentre }) {
  container.setAttribute("role", "application");
  // How to use it, said once when the graph gets the focus (words from the catalogue: translatePage).
  const hint = document.createElement("span");
  hint.id = "graph-keys-hint";
  hint.className = "visually-hidden";
  hint.dataset.i18n = "graph.keys";
  container.appendChild(hint);
  container.setAttribute("aria-describedby", hint.id);
  // The canvas's stand-in for the item the keyboard is on.
  const standIn = document.createElement("div");
  standIn.className = "visually-hidden";
  standIn.setAttribute("role", "button");
  container.appendChild(standIn);

  let item = null; // the item the keyboard is on; null: not engaged (arrow keys drive the player)
  let drawnOn = null; // the renderer showing the ring
  let described = null; // the element the container names as its active descendant
  let lastSelected = null;
  let seq = 0;

  function choose() {
    const sc = scene();
    const d = decor();
    const drawn = (id) => (id && itemRect(sc, id) ? id : null);
    let step = null;
    for (const [id, role] of d?.roles ?? []) {
      if (drawn(id) && (!step || (ROLE_RANK[role] ?? 0) > (ROLE_RANK[d.roles.get(step)] ?? 0))) step = id;
    }
    return drawn(d?.selected) ?? step ?? nearestTo(sc, viewCentre());
  }

  function nearestTo(sc, [x, y]) {
    let best = null;
    let dist = Infinity;
    for (const b of targets(sc)) {
      const d = Math.hypot((b.x0 + b.x1) / 2 - x, (b.y0 + b.y1) / 2 - y);
      if (d < dist) { dist = d; best = b.id; }
    }
    return best;
  }

  /** Put the keyboard on `id` (null: leave the items): ring, camera, accessible name. */
  function go(id, { follow = true } = {}) {
    item = id;
    container.dataset.keyboardItem = id ?? "";
    const r = renderer();
    if (drawnOn && drawnOn !== r) drawnOn.setFocusRing(null);
    drawnOn = r;
    const rect = id ? itemRect(scene(), id) : null;
    r.setFocusRing(rect);
    if (rect && follow) reveal(rect);
    describe();
  }

  /**
   * The container's active descendant: the item's element, or the stand-in with the item's words. A
   * new item gets a new id (screen readers speak a changed active descendant); new words for the same
   * item (another step) are only updated, not spoken again.
   */
  function describe({ moved = true } = {}) {
    if (!item) {
      described?.removeAttribute("id");
      described = null;
      container.removeAttribute("aria-activedescendant");
      return;
    }
    const el = renderer().focusElement(item) ?? standIn;
    if (el === standIn) {
      const l = decor()?.lines.get(item);
      standIn.setAttribute("aria-label", l?.aria ?? l?.header ?? l?.title ?? "");
      standIn.setAttribute("aria-pressed", String(decor()?.selected === item));
    }
    if (!moved && el === described) return;
    described?.removeAttribute("id");
    el.id = `graph-item-${++seq}`;
    described = el;
    container.setAttribute("aria-activedescendant", el.id);
  }

  container.addEventListener("focus", () => {
    // Tab (not a mouse click) brings the keyboard onto the items.
    if (container.matches(":focus-visible") && scene()) go(choose());
  });
  container.addEventListener("blur", () => go(null));
  container.addEventListener("pointerdown", () => { if (item) go(null); });
  container.addEventListener("keydown", (event) => {
    if (event.target !== container || event.ctrlKey || event.metaKey || event.altKey || !scene()) return;
    const key = event.key;
    if (!item) {
      if (key !== "Enter") return;
      go(choose());
    } else if (DIRECTIONS[key]) {
      const next = nearestItem(scene(), item, key);
      if (next) go(next);
    } else if (key === "Enter" || key === " ") {
      activate(item);
    } else if (key === "Escape") {
      go(null);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });

  return {
    /** A new scene: the same item if it is still drawn, else what now shows it, else where Tab enters. */
    sceneChanged() {
      if (!item) return;
      const sc = scene();
      const shown = shownItem(sc, item);
      go(shown && itemRect(sc, shown) ? shown : choose(), { follow: shown !== item });
    },
    /** A new step or selection: a new selection takes the keyboard with it (a reference goes to its tensor). */
    decorChanged() {
      const selected = decor()?.selected ?? null;
      const moved = selected !== lastSelected;
      lastSelected = selected;
      if (!item) return;
      if (moved && selected && selected !== item && itemRect(scene(), selected)) go(selected);
      else describe({ moved: false });
    },
    /** Put the keyboard on `id`, as Tab would. */
    focus(id) {
      container.focus();
      if (itemRect(scene(), id)) go(id);
      return item === id;
    },
    item: () => item,
  };
}

// The step player's controls: first, previous, next, last, play/pause with speed, a slider, step into a
// group (a collapsed group's steps are one step), and keyboard keys. It owns no state: it calls `go(pos)`
// / `setPlaying(bool)` / `setSpeed(x)` / `stepInto()` and draws what it is given.
import { t } from "./i18n/index.js";

export function bindPlayer(els, { go, setPlaying, setSpeed, getState, stepInto = () => {} }) {
  let timer = null;
  const step = (d) => { const s = getState(); go(Math.min(Math.max(s.pos + d, 0), s.timeline.length - 1)); };
  els.first.addEventListener("click", () => go(0));
  els.prev.addEventListener("click", () => step(-1));
  els.next.addEventListener("click", () => step(+1));
  els.last.addEventListener("click", () => go(getState().timeline.length - 1));
  els.play.addEventListener("click", () => setPlaying(!getState().playing));
  els.slider.addEventListener("input", () => go(Number(els.slider.value)));
  els.speed.addEventListener("change", () => setSpeed(Number(els.speed.value)));
  els.into?.addEventListener("click", () => stepInto());

  // Arrow keys, Home/End and Space drive the player unless the user is typing somewhere.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.closest?.(".cm-editor, input, select, textarea, [role=tab]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const s = getState();
    if (!s.timeline.length) return;
    const keys = {
      ArrowRight: () => step(+1), ArrowLeft: () => step(-1),
      ArrowDown: () => (s.timeline[s.pos]?.group ? stepInto() : false),
      Home: () => go(0), End: () => go(s.timeline.length - 1),
      " ": () => { if (target.tagName !== "BUTTON") setPlaying(!s.playing); else return false; },
    };
    const act = keys[event.key];
    if (act && act() !== false) event.preventDefault();
  });

  function schedule(state) {
    clearTimeout(timer);
    timer = null;
    if (!state.playing) return;
    timer = setTimeout(() => {
      const s = getState();
      if (s.pos >= s.timeline.length - 1) { setPlaying(false); return; }
      go(s.pos + 1, { keepPlaying: true });
    }, 1300 / state.speed);
  }

  return function renderPlayer(state) {
    const n = state.timeline.length;
    const disabled = n <= 1;
    els.slider.max = Math.max(n - 1, 0);
    els.slider.value = state.pos;
    els.slider.setAttribute("aria-valuetext", `${state.pos} / ${Math.max(n - 1, 0)}`);
    for (const b of [els.first, els.prev]) b.disabled = disabled || state.pos <= 0;
    for (const b of [els.next, els.last]) b.disabled = disabled || state.pos >= n - 1;
    els.play.disabled = disabled;
    els.slider.disabled = disabled;
    els.play.classList.toggle("playing", state.playing);
    els.play.title = t(state.playing ? "player.pause" : "player.play");
    els.play.setAttribute("aria-label", els.play.title);
    els.play.setAttribute("aria-pressed", state.playing ? "true" : "false");
    els.speed.value = String(state.speed);
    if (els.into) els.into.hidden = !state.timeline[state.pos]?.group;
    // A button that just disabled (Next at the last step) or hid under the keyboard's focus hands the
    // focus to the nearest control that still works, so the next key press is not lost on the page.
    const focused = document.activeElement;
    if ((focused?.disabled || focused?.hidden) && Object.values(els).includes(focused)) {
      const order = [els.first, els.prev, els.play, els.next, els.into, els.last].filter(Boolean);
      const at = order.indexOf(focused);
      const near = order.map((b, i) => [b, Math.abs(i - at)]).filter(([b]) => !b.disabled && !b.hidden).sort((x, y) => x[1] - y[1])[0];
      (near?.[0] ?? els.speed).focus();
    }
    schedule(state);
  };
}

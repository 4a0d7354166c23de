// The page state: one plain object, changed only through `update`, which tells subscribers which
// keys changed. Nothing reads state back out of the DOM.
export function createStore(initial) {
  const state = { ...initial };
  const listeners = [];
  return {
    get: () => state,
    update(patch) {
      const changed = new Set();
      for (const [k, v] of Object.entries(patch)) {
        if (state[k] !== v) { state[k] = v; changed.add(k); }
      }
      if (changed.size) for (const fn of listeners) fn(state, changed);
    },
    subscribe(fn) { listeners.push(fn); },
  };
}

export const initialState = {
  source: "",              // the program text as last traced or loaded (main.js starts it with the lesson)
  examples: [],            // from GET /api/examples
  index: null,             // the indexed trace (model.indexTrace) of the last successful run
  timeline: [],            // player positions (model.buildTimeline)
  pos: 0,                  // current player position
  playing: false,
  speed: 1,
  showConstants: true,
  presentation: false,
  selected: null,          // selected node id
  lineSelection: null,     // source line chosen in the editor
  error: null,             // {kind, message, line, col} of the last failed run
  busy: false,
  status: "",
  tab: "inspector",        // inspector | backprop | gradcheck | console | warnings
  scene: null,             // laid-out scene the renderer draws
  lang: "en",              // interface language: "en" or "pt-BR" (i18n/index.js)
  eps: 0.001,              // the gradient check's nudge, sent with every trace
  gradcheck: null,         // the gradient check shown (a re-check with another eps replaces only this)
  gradcheckBusy: false,
};

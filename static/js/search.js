// Find a node: by tensor name (every name it had), op label or name, source text, group label, or
// line (`12`, `line 12`, `:12`). Results in a list under the box; Enter or a click jumps to one (the
// groups around it open, the camera centres on it, it is selected). "/" focuses the box.
import { escapeHtml as h } from "./format.js";
import { displayName } from "./model.js";
import { groupLabel } from "./group-lines.js";

const MAX_RESULTS = 30;
const LINE = /^(?:line\s*|linha\s*|:)?\s*(\d+)$/i;

/** Up to `max` matches for `query`: [{id, text, detail}], ops first on a line, names before labels. */
export function findNodes(index, tree, query, t, max = MAX_RESULTS) {
  const q = query.trim().toLowerCase();
  if (!q || !index) return [];
  const out = [];
  const line = LINE.exec(q);
  const where = (n) => (n.span ? t("inspector.line", { line: n.span.line }) : "");
  if (line) {
    const want = Number(line[1]);
    const on = index.trace.nodes.filter((n) => n.span?.line === want);
    on.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "op" ? -1 : 1));
    for (const n of on.slice(0, max)) out.push({ id: n.id, text: displayName(n), detail: `${n.kind === "op" ? n.op : t(`role.${n.role}`)} · ${where(n)}` });
    return out;
  }
  const exact = [];
  const prefix = [];
  const inside = [];
  const rank = (text) => { const s = text.toLowerCase(); return s === q ? exact : s.startsWith(q) ? prefix : s.includes(q) ? inside : null; };
  for (const n of index.trace.nodes) {
    const texts = n.kind === "op" ? [n.label, n.op, n.source ?? "", n.module ?? ""] : [...(n.names ?? []), n.label];
    let best = null;
    for (const text of texts) {
      const r = rank(text);
      if (r === exact || (r === prefix && best !== exact) || (r && !best)) best = r;
    }
    if (best) best.push({ id: n.id, text: displayName(n), detail: `${n.kind === "op" ? n.op : t(`role.${n.role}`)}${n.span ? ` · ${where(n)}` : ""}` });
    if (exact.length >= max) break;
  }
  if (tree) {
    for (const g of tree.groups.values()) {
      if (g.id === tree.root) continue;
      const label = groupLabel(g, t);
      const r = rank(label);
      if (r) r.push({ id: g.id, text: label, detail: t("group.ops", { ops: g.ops }) });
    }
  }
  return [...exact, ...prefix, ...inside].slice(0, max);
}

export function createSearch(input, list, { getIndex, getTree, onPick, t }) {
  let results = [];
  let active = -1;
  let timer = 0;

  function render() {
    list.hidden = !input.value.trim() || document.activeElement !== input;
    if (list.hidden) return;
    list.innerHTML = results.length
      ? results.map((r, i) => `<li role="option" id="search-opt-${i}" data-pick="${h(r.id)}" aria-selected="${i === active}">` +
        `<span class="search-text">${h(r.text)}</span> <span class="muted">${h(r.detail)}</span></li>`).join("")
      : `<li class="muted" aria-disabled="true">${h(t("graph.searchNone"))}</li>`;
    input.setAttribute("aria-activedescendant", active >= 0 ? `search-opt-${active}` : "");
    list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
  }

  function update() {
    results = findNodes(getIndex(), getTree(), input.value, t);
    active = results.length ? 0 : -1;
    render();
  }

  function pick(i) {
    const r = results[i];
    if (!r) return;
    list.hidden = true;
    onPick(r.id);
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 60); });
  input.addEventListener("focus", () => { if (input.value.trim()) update(); });
  input.addEventListener("blur", () => setTimeout(() => { list.hidden = true; }, 150));
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!results.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : results.length - 1)) % results.length;
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(timer);
      results = findNodes(getIndex(), getTree(), input.value, t);
      pick(Math.max(active, 0));
    } else if (event.key === "Escape") {
      input.value = "";
      list.hidden = true;
      input.blur();
    }
  });
  list.addEventListener("mousedown", (event) => {
    const li = event.target.closest("[data-pick]");
    if (!li) return;
    event.preventDefault();
    pick(results.findIndex((r) => r.id === li.dataset.pick));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && !event.target.closest?.(".cm-editor, input, select, textarea")) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
  return { update };
}

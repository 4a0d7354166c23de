// The player's steps with collapsed groups (groups.js): consecutive steps inside one collapsed group
// are one step, which the player can step into (the group opens and its first step is shown). Timeline
// entries keep their raw range: `from`..`i` (forward) or `from`..`i` (backward), so a position maps
// from one grouping to another. No DOM here.
import { isGroupId, visibleItem } from "./groups.js";
import { groupLabel } from "./group-lines.js";
import { displayName } from "./model.js";
import { inlineValue } from "./format.js";

/** `raw` (model.buildTimeline, or passes.passTimeline) with the steps of each collapsed group merged. */
export function groupTimeline(raw, tree, expanded) {
  if (!tree) return raw;
  const out = [];
  let run = null;
  const close = () => { if (run) { out.push(run); run = null; } };
  for (const e of raw) {
    if (e.type !== "forward" && e.type !== "backward") { close(); out.push(e); continue; }
    const id = e.type === "forward" ? e.op : e.step.node;
    const item = id && tree.home.has(id) ? visibleItem(tree, expanded, id) : id;
    if (!item || !isGroupId(item)) { close(); out.push(e); continue; }
    if (run && run.type === e.type && run.group === item) {
      run.i = e.i;
      run.count += 1;
      if (e.type === "forward") run.op = e.op; else run.step = e.step;
      continue;
    }
    close();
    run = { ...e, group: item, from: e.i, count: 1, io: tree.group(item).io };
  }
  close();
  return out;
}

/** The entry of `timeline` showing what entry `cur` showed (its first raw step when `into`). */
export function positionOf(timeline, cur, { into = false } = {}) {
  if (!cur) return timeline.length - 1;
  if (cur.type === "forward" || cur.type === "backward") {
    const raw = into && cur.from !== undefined ? cur.from : cur.i;
    const k = timeline.findIndex((e) => e.type === cur.type && (e.from ?? e.i) <= raw && raw <= e.i);
    if (k >= 0) return k;
  }
  if (cur.type === "update") {
    const k = timeline.findIndex((e) => e.type === "update" && e.u === cur.u);
    if (k >= 0) return k;
  }
  if (cur.type === "start") return 0;
  return timeline.length - 1;
}

/** Words for a grouped step. */
export function groupStepWords(index, tree, cur, t) {
  const g = tree.group(cur.group);
  const label = g ? groupLabel(g, t) : cur.group;
  const range = { i: cur.from + 1, j: cur.i + 1, count: cur.count, label };
  if (cur.type === "forward") {
    const out = (cur.io?.outputs ?? []).slice(-1).map((id) => index.byId.get(id)).filter(Boolean)[0];
    const value = out ? `${displayName(out)} = ${inlineValue(out.value, { t })}` : "";
    return t("step.forwardGroup", { ...range, n: index.trace.forward.length, value });
  }
  const passes = Math.max(index.trace.passes.length, 1);
  return t("step.backwardGroup", { ...range, n: index.trace.backward.length, pass: cur.step.pass_index + 1, passes });
}

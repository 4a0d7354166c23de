// Words for groups (groups.js) on the graph and in the player: a group's label (`net.fc1 · Linear`,
// `iterations 100–199`, `line 12`), what it holds, and the text of a collapsed group's box at a step:
// its inputs, and the value and gradient of what leaves it. Catalogue keys `group.*`. No DOM.
import { displayName, nodeLines } from "./model.js";

export const OUTS_SHOWN = 2;
const NAME_MAX = 22; // a name in a group's box or a reference (a label can be a whole expression)

/** A tensor's name, cut to `max` characters. */
function shortName(node, max = NAME_MAX) {
  const name = displayName(node);
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

export function groupLabel(g, t) {
  switch (g.kind) {
    case "root": return t("group.program");
    case "function": return `${g.name}()`;
    case "module": return g.cls ? `${g.name} · ${g.cls}` : g.name;
    case "loop": return t("group.loop", { count: g.count });
    case "iteration": return t("group.iteration", { i: g.index });
    case "block": return g.iterations ? t("group.iterations", { from: g.from, to: g.to }) : linesText(g, t);
    case "line": return t("group.line", { line: g.line });
    default: return g.kind;
  }
}

function linesText(g, t) {
  if (!Number.isFinite(g.lineMin)) return t("group.ops", { ops: g.ops });
  return g.lineMin === g.lineMax ? t("group.line", { line: g.lineMin }) : t("group.lines", { from: g.lineMin, to: g.lineMax });
}

/** How much the group holds and where: `200 ops · line 4`. */
export function groupMeta(g, t) {
  const ops = t("group.ops", { ops: g.ops });
  if (g.kind === "line" || (g.kind === "block" && !g.iterations) || !Number.isFinite(g.lineMin)) return ops;
  return `${ops} · ${linesText(g, t)}`;
}

/** Text of a collapsed group at `frame` (null: the end, for sizes): title, meta, inputs, outputs. */
export function groupLines(tree, gid, frame, hasBackward, t) {
  const g = tree.group(gid);
  const io = g.io ?? { inputs: [], outputs: [], inputCount: 0, outputCount: 0 };
  const names = io.inputs.slice(0, 4).map((id) => shortName(tree.byId.get(id)));
  const more = io.inputCount - names.length;
  const inputs = io.inputCount ? `${t("group.in")}: ${names.join(", ")}${more > 0 ? ` ${t("group.more", { n: more })}` : ""}` : "";
  const outs = io.outputs.slice(-OUTS_SHOWN).map((id) => {
    const node = tree.byId.get(id);
    const l = nodeLines(node, frame, hasBackward, t);
    return { id, value: `${shortName(node)} = ${l.value}`, grad: l.grad };
  });
  const title = groupLabel(g, t);
  const meta = groupMeta(g, t);
  return { title, meta, inputs, outs, aria: `${title}, ${meta}`, tooltip: t("group.tooltip", { label: title, meta }) };
}

/** Text of a reference to a shared tensor. */
export function refLines(tree, tensor, t) {
  const node = tree.byId.get(tensor);
  const name = node ? displayName(node) : tensor;
  return { title: `↗ ${node ? shortName(node, 18) : tensor}`, aria: t("group.refTitle", { name }), tooltip: t("group.refTitle", { name }) };
}

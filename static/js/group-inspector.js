// The inspector for a group (groups.js): what it is, how many ops and which lines, what enters it and
// what leaves it (values and gradients at the player's step), and a button that opens or closes it.
import { escapeHtml as h } from "./format.js";
import { displayName, nodeLines } from "./model.js";
import { groupLabel, groupMeta } from "./group-lines.js";

export function renderGroupInspector(el, { index, tree, gid, frame, open, t }) {
  const g = tree.group(gid);
  const hasBackward = index.trace.backward.length > 0;
  const link = (id) => {
    const n = index.byId.get(id);
    if (!n) return "";
    const l = nodeLines(n, frame, hasBackward, t);
    return `<li><button type="button" class="link" data-node="${h(id)}">${h(displayName(n))}</button> ` +
      `<code>${h(l.value ?? "")}</code>${l.grad ? ` <code class="grad-colour">${h(l.grad)}</code>` : ""}</li>`;
  };
  const more = (shown, count) => (count > shown ? `<li class="muted">${h(t("group.more", { n: count - shown }))}</li>` : "");
  const io = g.io;
  const lines = Number.isFinite(g.lineMin)
    ? [...new Set([g.lineMin, g.lineMax])].map((line) => `<button type="button" class="link" data-line="${line}">${h(t("inspector.line", { line }))}</button>`).join(" – ")
    : "–";
  el.innerHTML = `<h3><span class="kind">${h(t("inspector.group"))}</span> <code>${h(groupLabel(g, t))}</code> ` +
    `<button type="button" data-toggle-group="${h(gid)}">${h(t(open ? "inspector.close" : "inspector.open"))}</button></h3>` +
    `<table class="props">` +
    `<tr><th scope="row">${h(t("inspector.groupOps"))}</th><td>${h(groupMeta(g, t))}</td></tr>` +
    `<tr><th scope="row">${h(t("inspector.groupLines"))}</th><td>${lines}</td></tr></table>` +
    `<h4>${h(t("inspector.groupInputs"))}</h4><ul class="group-io">${io.inputs.map(link).join("")}${more(io.inputs.length, io.inputCount)}</ul>` +
    `<h4>${h(t("inspector.groupOutputs"))}</h4><ul class="group-io">${io.outputs.map(link).join("")}${more(io.outputs.length, io.outputCount)}</ul>`;
}

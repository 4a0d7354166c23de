// The hand backprop table (the lesson's last cell): per backward pass, from the root back to the
// leaves, each tensor with d(root)/d(tensor). Same walk as app/teaching/table.py: in one pass the
// engine reaches each tensor once, with its whole gradient, as the `grad_in` of the step that
// consumes it; the first value per tensor is its row. Rows link to their nodes in the graph.
import { inlineValue, escapeHtml as h } from "./format.js";
import { displayName } from "./model.js";
import { gradSymbol } from "./notation.js";

/** [{pass, root, line, rows: [{tensor, step, grad}]}], one entry per backward pass. No DOM. */
export function backpropPasses(trace) {
  const steps = new Map(trace.backward.map((s) => [s.index, s]));
  return trace.passes.map((pass) => {
    const rows = [];
    const seen = new Set();
    for (const i of pass.steps) {
      const step = steps.get(i);
      step?.grad_in_targets?.forEach((target, k) => {
        const grad = step.grad_in[k];
        if (!target || !grad || seen.has(target)) return;
        seen.add(target);
        rows.push({ tensor: target, step: i, grad });
      });
    }
    return { pass: pass.index, root: pass.root, line: pass.span?.line ?? null, rows };
  });
}

export function renderBackpropTable(el, { index, selected, t }) {
  if (!index) { el.innerHTML = ""; return; }
  const passes = backpropPasses(index.trace).filter((p) => p.rows.length);
  if (!passes.length) {
    el.innerHTML = `<p class="muted">${h(t("table.empty"))}</p>`;
    return;
  }
  const name = (id) => { const n = index.byId.get(id); return n ? displayName(n) : id; };
  let html = `<p>${h(t("table.intro", { root: name(passes[0].root) }))}</p>`;
  for (const p of passes) {
    const root = name(p.root);
    html += `<h4>${h(t("table.pass", { pass: p.pass + 1, root, line: p.line }))}</h4>` +
      `<table class="backprop"><thead><tr><th scope="col">${h(t("table.tensor"))}</th>` +
      `<th scope="col" class="grad-colour">${h(t("table.symbol"))}</th><th scope="col" class="grad-colour">${h(t("table.value"))}</th>` +
      `<th scope="col">${h(t("table.step"))}</th></tr></thead><tbody>`;
    for (const r of p.rows) {
      const n = index.byId.get(r.tensor);
      const on = r.tensor === selected;
      html += `<tr data-tensor="${h(r.tensor)}"${on ? ' class="selected" aria-current="true"' : ""}>` +
        `<th scope="row"><button type="button" class="link" data-node="${h(r.tensor)}">${h(name(r.tensor))}</button>` +
        `${n ? ` <span class="role-dot role-${h(n.role)}" title="${h(t(`role.${n.role}`))}"></span>` : ""}</th>` +
        `<td class="grad symbol">${h(gradSymbol(root, name(r.tensor)))}</td>` +
        `<td class="grad value">${h(inlineValue(r.grad, { maxChars: 48, t }))}</td>` +
        `<td class="muted">${r.step + 1}</td></tr>`;
    }
    html += "</tbody></table>";
  }
  el.innerHTML = html;
}

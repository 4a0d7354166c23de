// The gradient-check, console and warnings panels: plain HTML from the trace.
import { fmtFull, escapeHtml as h } from "./format.js";

export function renderGradcheck(el, { index, t, onSelect }) {
  const gc = index?.trace.gradcheck;
  if (!gc || !gc.leaves.length) {
    el.innerHTML = `<p class="muted">${h(gc?.note ?? t("gradcheck.empty"))}</p>`;
    return;
  }
  let html = `<p>${h(t("gradcheck.intro", { eps: gc.eps }))}</p>`;
  if (gc.note) html += `<p class="note">${h(gc.note)}</p>`;
  for (const leaf of gc.leaves) {
    html += `<h4><button type="button" class="link" data-node="${h(leaf.leaf)}">${h(leaf.name)}</button>` +
      (leaf.max_abs_error != null ? ` <span class="muted">${h(t("gradcheck.maxError", { value: fmtFull(leaf.max_abs_error) }))}</span>` : "") + "</h4>";
    html += `<div class="scroll"><table class="gradcheck"><thead><tr>` +
      ["gradcheck.index", "gradcheck.autograd", "gradcheck.central", "gradcheck.forward", "gradcheck.delta", "gradcheck.error"]
        .map((k) => `<th scope="col"${k === "gradcheck.autograd" ? ' class="grad-colour"' : ""}>${h(t(k))}</th>`).join("") +
      `</tr></thead><tbody>`;
    for (const e of leaf.elements) {
      html += `<tr><th scope="row">[${h(e.index.join(", "))}]</th><td class="grad">${h(fmtFull(e.autograd))}</td>` +
        `<td>${h(fmtFull(e.central))}</td><td>${h(fmtFull(e.forward))}</td><td>${h(fmtFull(e.delta))}</td><td>${h(fmtFull(e.abs_error))}</td></tr>`;
    }
    html += `</tbody></table></div>`;
    if (leaf.truncated) html += `<p class="note">${h(t("gradcheck.truncated"))}</p>`;
  }
  el.innerHTML = html;
}

export function renderConsole(el, { index, t }) {
  const out = index?.trace.output ?? [];
  el.innerHTML = out.length ? `<pre class="console">${h(out.join("\n"))}</pre>` : `<p class="muted">${h(t("console.empty"))}</p>`;
}

export function renderWarnings(el, { index, t }) {
  const ws = index?.trace.warnings ?? [];
  el.innerHTML = ws.length
    ? `<ul class="warnings">${ws.map((w) => `<li>${w.line ? `<button type="button" class="link" data-line="${w.line}">${h(t("warnings.line", { line: w.line }))}</button> ` : ""}${h(w.message)}</li>`).join("")}</ul>`
    : `<p class="muted">${h(t("warnings.empty"))}</p>`;
  return ws.length;
}

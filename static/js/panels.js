// The console and warnings panels: plain HTML from the trace. (The gradient check is gradcheck-view.js.)
import { escapeHtml as h } from "./format.js";

export function renderConsole(el, { index, t }) {
  const out = index?.trace.output ?? [];
  el.innerHTML = out.length ? `<pre class="console">${h(out.join("\n"))}</pre>` : `<p class="muted">${h(t("console.empty"))}</p>`;
}

/** Warnings as torch worded them, each with its plain-language explanation when it has a message key. */
export function renderWarnings(el, { index, t, message }) {
  const ws = index?.trace.warnings ?? [];
  el.innerHTML = ws.length
    ? `<ul class="warnings">${ws.map((w) => `<li>${w.line ? `<button type="button" class="link" data-line="${w.line}">${h(t("warnings.line", { line: w.line }))}</button> ` : ""}` +
      `<span class="torch-message">${h(w.message)}</span>` +
      (w.key ? `<p class="hint"><strong>${h(t("warnings.explain"))}:</strong> ${h(message({ key: w.key, params: w.params }))}</p>` : "") +
      `</li>`).join("")}</ul>`
    : `<p class="muted">${h(t("warnings.empty"))}</p>`;
  return ws.length;
}

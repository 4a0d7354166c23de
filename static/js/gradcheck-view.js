// The gradient check view: per leaf, autograd's gradient beside the finite-difference estimates, the
// error, and what the number means ("if w grows by 0.001, J grows by about -0.028"). An eps input asks
// for the check again with another eps (the page re-traces through the API and keeps the graph).
import { fmtFull, escapeHtml as h } from "./format.js";

const MAX_SENTENCES = 6;

export function parseEps(text) {
  const v = Number(String(text).trim());
  return Number.isFinite(v) && v >= 1e-8 && v <= 1 ? v : null;
}

function epsForm(eps, busy, t) {
  return `<form class="eps-form" data-role="eps-form"><label><span>${h(t("gradcheck.eps"))}</span> ` +
    `<input name="eps" type="text" inputmode="decimal" size="8" value="${h(eps)}" title="${h(t("gradcheck.epsTitle"))}" aria-label="${h(t("gradcheck.epsTitle"))}"${busy ? " disabled" : ""}></label>` +
    `<span class="eps-status muted" aria-live="polite">${busy ? h(t("gradcheck.running")) : ""}</span></form>`;
}

export function renderGradcheckView(el, { gradcheck: gc, eps, busy, t, message }) {
  let html = epsForm(eps, busy, t);
  if (!gc || !gc.leaves.length) {
    el.innerHTML = html + `<p class="muted">${h(gc?.note ?? t("gradcheck.empty"))}</p>`;
    return;
  }
  html += `<p>${h(t("gradcheck.intro", { eps: gc.eps }))}</p>`;
  if (gc.note) html += `<p class="note">${h(gc.note)}</p>`;
  for (const leaf of gc.leaves) {
    html += `<h4><button type="button" class="link" data-node="${h(leaf.leaf)}">${h(leaf.name)}</button>` +
      (leaf.max_abs_error != null ? ` <span class="muted">${h(t("gradcheck.maxError", { value: fmtFull(leaf.max_abs_error) }))}</span>` : "") + "</h4>";
    html += `<div class="scroll"><table class="gradcheck"><thead><tr>` +
      ["gradcheck.index", "gradcheck.autograd", "gradcheck.central", "gradcheck.forward", "gradcheck.error"]
        .map((k) => `<th scope="col"${k === "gradcheck.autograd" ? ' class="grad-colour"' : ""}>${h(t(k))}</th>`).join("") +
      `</tr></thead><tbody>`;
    leaf.elements.forEach((e, i) => {
      html += `<tr><th scope="row">[${h(e.index.join(", "))}]</th><td class="grad">${h(fmtFull(e.autograd))}</td>` +
        `<td class="estimate">${h(fmtFull(e.central))}</td><td class="estimate">${h(fmtFull(e.forward))}</td><td>${h(fmtFull(e.abs_error))}</td></tr>`;
      if (e.sentence && i < MAX_SENTENCES) html += `<tr class="sentence-row"><td colspan="5" class="sentence">${h(message(e.sentence))}</td></tr>`;
    });
    html += `</tbody></table></div>`;
    if (leaf.truncated) html += `<p class="note">${h(t("gradcheck.truncated"))}</p>`;
  }
  el.innerHTML = html;
}

/** Listen once for a new eps typed in the view (Enter or leaving the field). */
export function bindGradcheckView(el, { onEps, onInvalid }) {
  const submit = (input) => {
    const eps = parseEps(input.value);
    if (eps === null) onInvalid?.(); else onEps(eps);
  };
  el.addEventListener("submit", (event) => {
    if (!event.target.matches("[data-role=eps-form]")) return;
    event.preventDefault();
    submit(event.target.elements.eps);
  });
  el.addEventListener("change", (event) => { if (event.target.name === "eps") submit(event.target); });
}

// The gradient check view: per leaf, autograd's gradient beside the finite-difference estimates, the
// error, and what the number means ("if w grows by 0.001, J grows by about -0.028"). An eps input asks
// for the check again with another eps (the page re-traces through the API and keeps the graph).
import { fmtFull, fmtNumber, toNumber, escapeHtml as h } from "./format.js";

const MAX_SENTENCES = 6;
// The spacing of floating-point numbers near 1 (machine epsilon) and the significant digits it gives.
const PRECISION = {
  float32: [2 ** -23, 7], float16: [2 ** -10, 3], bfloat16: [2 ** -7, 2], float64: [2 ** -52, 16],
};

/**
 * When eps is so small that the root's own dtype cannot show J(w+eps) − J(w) accurately, the forward
 * difference is mostly round-off (eps 1e-7 in float32: -38 for a gradient of -28). Returns the
 * explanation, or "" when the forward difference is as accurate as eps allows.
 */
function roundOffNote(leaf, gc, index, t) {
  const root = index?.byId.get(leaf.root);
  const dtype = root?.value?.dtype ?? "float32";
  const [machineEps, digits] = PRECISION[dtype] ?? PRECISION.float32;
  const v = root?.value;
  const size = v ? Math.max(Math.abs(toNumber(v.min) || 0), Math.abs(toNumber(v.max) || 0)) : 1;
  const noise = (machineEps * Math.max(size, Number.MIN_VALUE)) / gc.eps; // what one rounding step of J adds to the slope
  const worst = leaf.elements.find((e) => Math.abs(toNumber(e.forward) - toNumber(e.central)) > 0.01 * Math.abs(toNumber(e.central)) &&
    noise > 0.01 * Math.abs(toNumber(e.central)));
  if (!worst) return "";
  return t("gradcheck.roundOff", {
    dtype, digits, eps: gc.eps, root: leaf.root && root ? (root.name ?? root.label) : "J", leaf: leaf.name,
    expected: fmtNumber(toNumber(worst.central) * gc.eps), delta: fmtNumber(worst.delta), forward: fmtFull(worst.forward),
  });
}

export function parseEps(text) {
  const v = Number(String(text).trim());
  return Number.isFinite(v) && v >= 1e-8 && v <= 1 ? v : null;
}

function epsForm(eps, busy, t) {
  return `<form class="eps-form" data-role="eps-form"><label><span>${h(t("gradcheck.eps"))}</span> ` +
    `<input name="eps" type="text" inputmode="decimal" size="8" value="${h(eps)}" title="${h(t("gradcheck.epsTitle"))}" aria-label="${h(t("gradcheck.epsTitle"))}"${busy ? " disabled" : ""}></label>` +
    `<span class="eps-status muted" aria-live="polite">${busy ? h(t("gradcheck.running")) : ""}</span></form>`;
}

export function renderGradcheckView(el, { gradcheck: gc, eps, busy, t, message, index = null }) {
  let html = epsForm(eps, busy, t);
  if (!gc || !gc.leaves.length) {
    el.innerHTML = html + `<p class="muted">${h(gc?.note ? message(gc.note) : t("gradcheck.empty"))}</p>`;
    return;
  }
  html += `<p>${h(t("gradcheck.intro", { eps: gc.eps }))}</p>`;
  if (gc.note) html += `<p class="note">${h(message(gc.note))}</p>`;
  for (const leaf of gc.leaves) {
    html += `<h4><button type="button" class="link" data-node="${h(leaf.leaf)}">${h(leaf.name)}</button>` +
      (leaf.max_abs_error != null ? ` <span class="muted">${h(t("gradcheck.maxError", { value: fmtFull(leaf.max_abs_error) }))}</span>` : "") + "</h4>";
    const roundOff = roundOffNote(leaf, gc, index, t);
    if (roundOff) html += `<p class="round-off" role="note">${h(roundOff)}</p>`;
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

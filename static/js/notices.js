// Notices above the graph, for what a reader must not miss: Grafo called backward() itself (torch
// would have left .grad None), a gradient is NaN or infinite, a shared link could not be read.
// Plain HTML from the trace; a notice's button moves the player to the step it talks about.
import { escapeHtml as h } from "./format.js";
import { displayName } from "./model.js";
import { gradSymbol, rootName, firstNonfiniteGrad } from "./notation.js";

/** [{kind, html}] for the trace shown (`index`) and the link the page was opened with. */
export function notices({ index, timeline, brokenLink, t }) {
  const out = [];
  if (brokenLink) out.push({ kind: "broken-link", html: h(t("notice.brokenLink")) });
  if (!index) return out;
  const { trace, byId } = index;
  const implicit = trace.passes.find((p) => p.implicit);
  if (implicit) {
    const root = rootName(index, implicit.index);
    const leaves = trace.nodes.filter((n) => n.kind === "tensor" && n.role === "param").map(displayName);
    out.push({
      kind: "implicit",
      html: `<strong>${h(t("notice.implicitTitle"))}</strong> ${h(t("notice.implicit", {
        root, leaves: leaves.length ? leaves.map((n) => `${n}.grad`).join(", ") : ".grad",
      }))}`,
    });
  }
  const bad = firstNonfiniteGrad(trace);
  if (bad) {
    const step = trace.backward[bad.step];
    const target = bad.target && byId.get(bad.target);
    const symbol = target ? gradSymbol(rootName(index, step.pass_index), displayName(target)) : step.grad_fn;
    const pos = timeline.findIndex((e) => e.type === "backward" && e.i === bad.step);
    out.push({
      kind: "nonfinite",
      html: `<strong>⚠ ${h(t("notice.nonfiniteTitle"))}</strong> ${h(t("notice.nonfinite", { symbol, step: bad.step + 1, gradFn: step.grad_fn }))}` +
        (pos >= 0 ? ` <button type="button" class="link" data-pos="${pos}">${h(t("notice.showStep", { step: bad.step + 1 }))}</button>` : ""),
    });
  }
  return out;
}

export function renderNotices(el, state) {
  const list = notices(state);
  el.hidden = !list.length;
  el.innerHTML = list.map((n) => `<p class="notice notice-${n.kind}" role="note">${n.html}</p>`).join("");
}

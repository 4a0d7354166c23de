// The inspector panel: everything about one node. Renders HTML from the trace and the selected id;
// clicks on links call back (select another node, select a source line).
import { fmtFull, fmtNumber, shapeText, escapeHtml as h } from "./format.js";
import { displayName } from "./model.js";
import { gradSymbol, rootName, isNonfinite, nonfiniteNumber } from "./notation.js";

/** A table cell; NaN and ±Inf are marked so they stand out. */
const cell = (v) => `<td${nonfiniteNumber(v) ? ' class="nonfinite"' : ""}>${h(fmtFull(v))}</td>`;

function table1d(data, cls) {
  const head = data.map((_, i) => `<th scope="col">${i}</th>`).join("");
  const row = data.map(cell).join("");
  return `<table class="tensor ${cls}"><thead><tr><th></th>${head}</tr></thead><tbody><tr><th scope="row"></th>${row}</tr></tbody></table>`;
}

function table2d(rows, cls) {
  const cols = rows[0]?.length ?? 0;
  const head = Array.from({ length: cols }, (_, j) => `<th scope="col">${j}</th>`).join("");
  const body = rows.map((r, i) => `<tr><th scope="row">${i}</th>${r.map(cell).join("")}</tr>`).join("");
  return `<table class="tensor ${cls}"><thead><tr><th></th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A tensor as tables: a number, a row, a matrix, or 2-D slices of a higher-rank tensor. */
export function tensorTables(value, cls, t) {
  if (!value) return "";
  const stats = `<p class="stats">${h(t("inspector.stats", { min: fmtNumber(value.min), max: fmtNumber(value.max), mean: fmtNumber(value.mean) }))}</p>`;
  if (value.truncated) {
    const flat = [value.data].flat(Infinity);
    return `<p class="note">${h(t("inspector.truncated", { shown: flat.length, numel: value.numel }))}</p>` +
      `<div class="scroll">${table1d(flat.slice(0, 200), cls)}</div>${stats}`;
  }
  const rank = value.shape.length;
  if (rank === 0) return `<p class="scalar ${cls}${nonfiniteNumber(value.data) ? " nonfinite" : ""}">${h(fmtFull(value.data))}</p>`;
  if (rank === 1) return `<div class="scroll">${table1d(value.data, cls)}</div>${value.numel > 4 ? stats : ""}`;
  if (rank === 2) return `<div class="scroll">${table2d(value.data, cls)}</div>${stats}`;
  // Higher rank: slices over the leading dimensions, at most 8 of them.
  const slices = [];
  const walk = (data, index) => {
    if (slices.length >= 8) return;
    if (index.length === rank - 2) { slices.push({ index, rows: data }); return; }
    data.forEach((d, i) => walk(d, [...index, i]));
  };
  walk(value.data, []);
  return slices.map((s) => `<p class="slice">${h(t("inspector.slice", { index: s.index.join(", ") }))}</p><div class="scroll">${table2d(s.rows, cls)}</div>`).join("") + stats;
}

function nodeLink(byId, id) {
  const n = byId.get(id);
  if (!n) return `<span class="muted">${h(id ?? "–")}</span>`;
  const text = n.kind === "op" && n.label !== n.op ? `${n.label} (${n.op})` : displayName(n);
  return `<button type="button" class="link" data-node="${h(id)}">${h(text)}</button>`;
}

function lineLink(span, t) {
  if (!span) return "–";
  return `<button type="button" class="link" data-line="${span.line}">${h(t("inspector.line", { line: span.line }))}</button>`;
}

function row(label, html) {
  return `<tr><th scope="row">${h(label)}</th><td>${html}</td></tr>`;
}

/**
 * `frame` (model.frameAt) is the player's current step: the value and gradient shown are the ones the
 * graph shows at that step (not yet computed, not yet arrived, this pass's), not the program's end.
 */
export function renderInspector(el, { index, selected, lineSelection, source, t, frame = null }) {
  if (!index || !selected || !index.byId.has(selected)) {
    let html = `<p class="muted">${h(t("inspector.empty"))}</p>`;
    if (index && lineSelection) {
      const ids = index.trace.nodes.filter((n) => n.span && n.span.line === lineSelection).map((n) => n.id);
      html = `<p>${h(t("inspector.onLine", { line: lineSelection, count: ids.length }))}</p><p>${ids.map((id) => nodeLink(index.byId, id)).join(" ")}</p>` + html;
    }
    el.innerHTML = html;
    return;
  }
  const { byId } = index;
  const n = byId.get(selected);
  const lines = source ? source.split("\n") : [];
  const code = n.span ? lines[n.span.line - 1] ?? "" : "";
  let html = "";
  if (n.kind === "tensor") {
    const producer = n.producer ? byId.get(n.producer) : null;
    html += `<h3><span class="kind">${h(t("inspector.tensor"))}</span> <span class="role-chip role-${h(n.role)}">${h(t(`role.${n.role}`))}</span> <code>${h(displayName(n))}</code></h3>`;
    html += `<table class="props">${[
      row(t("inspector.shape"), h(n.value.shape.length ? shapeText(n.value) : t("inspector.scalar"))),
      row(t("inspector.dtype"), h(n.value.dtype)),
      row(t("inspector.requiresGrad"), h(n.requires_grad ? t("yes") : t("no"))),
      row(t("inspector.isLeaf"), h(n.is_leaf ? t("yes") : t("no"))),
      row(t("inspector.gradFn"), producer?.grad_fn ? `<code>${h(producer.grad_fn)}</code>` : "None"),
      n.names.length > 1 ? row(t("inspector.names"), h(n.names.join(", "))) : "",
      producer ? row(t("inspector.producer"), nodeLink(byId, producer.id)) : "",
      n.version ? row(t("inspector.version"), h(n.version)) : "",
      row(t("inspector.source"), `${lineLink(n.span, t)} <code class="src">${h(code.trim())}</code>`),
    ].join("")}</table>`;
    const atEnd = !frame || frame.cur?.type === "end";
    const known = atEnd || frame.revealed.has(n.id);
    const grad = atEnd ? n.grad : frame.grads.get(n.id) ?? null;
    if (!atEnd) html += `<p class="at-step muted">${h(t("inspector.atStep", { pos: frame.pos }))}</p>`;
    html += `<h4>${h(t("inspector.value"))}</h4>` + (known ? tensorTables(n.value, "value", t) : `<p class="muted">${h(t("inspector.notYet"))}</p>`);
    const pass = frame?.cur?.step?.pass_index ?? index.trace.passes.at(-1)?.index;
    html += `<h4 class="grad-colour">${h(t("inspector.grad"))} <code>${h(gradSymbol(rootName(index, pass), displayName(n)))}</code></h4>`;
    if (isNonfinite(grad)) html += `<p class="inspector-nonfinite" role="note">${h(t("inspector.nonfinite"))}</p>`;
    html += grad ? tensorTables(grad, "grad", t)
      : `<p class="muted">${h(t(n.grad && !atEnd ? "inspector.gradNotYet" : "inspector.noGrad"))}</p>`;
  } else {
    html += `<h3><span class="kind">${h(t("inspector.op"))}</span> <code>${h(n.label)}</code> <span class="muted">${h(n.op)}</span></h3>`;
    const params = Object.entries(n.params ?? {}).map(([k, v]) => `<code>${h(k)}=${h(v)}</code>`).join(" ");
    html += `<table class="props">${[
      row(t("inspector.gradFn"), n.grad_fn ? `<code>${h(n.grad_fn)}</code>` : "None"),
      row(t("inspector.inputs"), n.inputs.map((id) => nodeLink(byId, id)).join(", ") || "–"),
      row(t("inspector.outputs"), n.outputs.map((id) => nodeLink(byId, id)).join(", ") || "–"),
      params ? row(t("inspector.params"), params) : "",
      n.internal_grad_fns?.length ? row(t("inspector.internal"), n.internal_grad_fns.map((g) => `<code>${h(g)}</code>`).join(", ")) : "",
      row(t("inspector.source"), `${lineLink(n.span, t)} <code class="src">${h(n.source ?? code.trim())}</code>`),
    ].join("")}</table>`;
    if (n.saved?.length) {
      html += `<h4>${h(t("inspector.saved"))}</h4><dl class="saved">`;
      for (const s of n.saved) {
        html += `<dt><code>${h(s.name)}</code>${s.node ? ` = ${nodeLink(byId, s.node)}` : ""}</dt><dd>` +
          (s.tensor ? tensorTables(s.tensor, "value", t) : `<code>${h(s.text ?? "")}</code>`) + "</dd>";
      }
      html += "</dl>";
    }
  }
  el.innerHTML = html;
}

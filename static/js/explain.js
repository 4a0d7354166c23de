// The chain rule at the current backward step (BackwardStep.explanation, app/trace_model.py): the
// rule in symbols, the same rule with the step's numbers, the result; notes worded from message keys;
// a gradient that is the sum of several uses spelled out term by term. Plain HTML from the data.
import { escapeHtml as h } from "./format.js";
import { displayName } from "./model.js";
import { isNonfinite } from "./notation.js";

// app/teaching/explain.py MAX_STEPS: the server writes out the chain rule for this many backward
// steps of a program; later steps come without an explanation (their numbers are still in the trace).
const EXPLAINED_STEPS = 500;

/** Gradient symbols (dJ/de, w.grad) in a formula, in the gradient colour. Input is escaped first. */
export function markGradients(text) {
  return h(text).replace(/(d[\w.]+\/d[\w.]+|[\w]+\.grad)/g, '<span class="grad">$1</span>');
}

function notesHtml(notes, message) {
  return notes?.length ? `<ul class="explain-notes">${notes.map((m) => `<li>${h(message(m))}</li>`).join("")}</ul>` : "";
}

/** One ExplanationLine: `symbol = formula`, `= substituted`, `= result`, each labelled. */
function lineHtml(line, { t, message }) {
  if (!line.formula && !line.result) {
    // No gradient for this input: the symbol and why, on one line.
    const why = line.notes?.map(message).join(" ") ?? "";
    return `<p class="explain-line none"><span class="lhs">${markGradients(line.symbol)}</span>: <span class="why">${h(why)}</span></p>`;
  }
  const rows = [];
  if (line.formula) rows.push(["symbols", markGradients(line.formula)]);
  if (line.substituted && line.substituted !== line.formula && line.substituted !== line.result) rows.push(["numbers", h(line.substituted)]);
  if (line.result) rows.push(["result", `<span class="grad result">${h(line.result)}</span>`]);
  const eq = rows.map(([kind, html], i) =>
    `<span class="lhs">${i === 0 ? markGradients(line.symbol) : ""}</span><span class="eq">=</span>` +
    `<span class="rhs ${kind}">${html}</span><span class="what">${h(t(`explain.${kind}`))}</span>`).join("");
  return `<div class="explain-line"><div class="explain-eq">${eq}</div>${notesHtml(line.notes, message)}</div>`;
}

/** A GradSum: the contributions that meet at one tensor, and their total. */
function sumHtml(sum, { byId, t }) {
  const terms = sum.terms.map((term) => {
    const from = term.step == null ? t("explain.seedTerm") : t("explain.fromStep", { step: term.step + 1 });
    const op = term.op && byId.get(term.op);
    const label = op ? `${from} · ${op.label}` : from;
    const attrs = term.op ? ` data-node="${h(term.op)}"` : "";
    return `<button type="button" class="term grad"${attrs} title="${h(label)}">${h(term.value)}</button>`;
  }).join(`<span class="plus">+</span>`);
  return `<p class="explain-sum"><span class="muted label">${h(t("explain.incoming"))}</span><br>` +
    `${markGradients(sum.symbol)} = ${terms} = <span class="grad result">${h(sum.total)}</span></p>`;
}

/** The step that failed: what the error means and how to fix it (its hint), torch's own words below. */
function failedHtml(error, { t, message }, title = t("explain.failed")) {
  if (!error) return `<div class="explain-failed" role="note"><p><strong>${h(title)}</strong></p></div>`;
  const hint = error.hint ? `<p class="hint">${h(message({ key: error.hint }))}</p>` : "";
  const words = error.key ? message({ key: error.key, params: error.params }) : error.message;
  return `<div class="explain-failed" role="note"><p><strong>${h(title)}</strong></p>${hint}` +
    `<p class="torch-message">${h(words)}</p></div>`;
}

/** A gradient this step sends (or stores) that is NaN or ±Inf: said plainly, with the usual causes. */
function nonfiniteHtml(s, { t }) {
  const bad = s.grads_out.some((f) => isNonfinite(f.value)) || (s.kind === "accumulate" && isNonfinite(s.accumulated));
  return bad ? `<p class="explain-nonfinite" role="note">${h(t("explain.nonfinite"))}</p>` : "";
}

/** The step of the same call's own rule, numbered as the player numbers it (the server counts over the whole program). */
function internalNote(index, s, m) {
  if (m.key !== "internal_step") return m;
  const main = index.trace.backward.find((b) => b.kind === "op" && b.node === s.node && b.pass_index === s.pass_index);
  return main ? { ...m, params: { ...m.params, step: main.index + 1 } } : m;
}

/** HTML for the explanation of timeline entry `cur`, or "" when it is not a backward step. */
export function explanationHtml(index, cur, { t, message, error = null }) {
  if (cur?.type !== "backward") return "";
  const s = cur.step;
  const ex = s.explanation;
  const node = s.node ? index.byId.get(s.node) : null;
  const opName = node ? (node.kind === "op" ? node.label : displayName(node)) : s.grad_fn;
  const verified = ex?.verified && !s.failed ? ` <span class="verified">${h(t("explain.verified"))}</span>` : "";
  let html = `<h3>${h(t("explain.title"))} <span class="muted">· <code>${h(s.grad_fn)}</code>${node?.kind === "op" ? ` <code>${h(opName)}</code>` : ""}</span>${verified}</h3>`;
  if (s.failed) return html + failedHtml(error, { t, message });
  html += nonfiniteHtml(s, { t });
  // No explanation at all: the step is past the budget of explained steps (a step the teaching layer
  // could not explain has one, with the note `explanation_failed`).
  if (!ex) return `${html}<p class="explain-budget muted">${h(t("explain.budget", { count: EXPLAINED_STEPS, step: cur.i + 1 }))}</p>`;
  if (ex.incoming) html += sumHtml(ex.incoming, { byId: index.byId, t });
  if (!ex.documented) {
    const said = ex.notes.some((m) => m.key === "rule_not_documented");
    if (!said) html += `<p class="undocumented">${h(t("explain.undocumented"))}</p>`;
  }
  if (ex.general?.length) {
    html += `<p class="explain-general"><span class="muted">${h(t("explain.rule"))}${ex.rule ? ` <code>${h(ex.rule)}</code>` : ""}:</span> ` +
      ex.general.map((g) => `<code>${markGradients(g)}</code>`).join("<span class=\"sep\">;</span> ") + "</p>";
  }
  html += ex.lines.map((line) => lineHtml(line, { t, message })).join("");
  html += notesHtml(ex.notes.map((m) => internalNote(index, s, m)), message);
  return html;
}

/**
 * The panel is there whenever the trace has a backward pass (so the graph keeps its size while
 * stepping); on other steps it says where the chain rule will appear.
 */
export function renderExplanation(el, { index, timeline, pos, t, message, error = null }) {
  const hasBackward = !!index?.trace.backward.length;
  // A program that stopped outside backward (its error is at a line, not at a backward step): after
  // its last step, the panel says where and why, beside the graph of what ran.
  const stopped = !!error && !!index && !index.trace.backward.some((s) => s.failed);
  el.hidden = !hasBackward && !stopped;
  if (el.hidden) { el.innerHTML = ""; return; }
  const cur = timeline[pos];
  const atStop = stopped && cur?.type === "end";
  // Backward and update steps have something to show; on other steps the panel shrinks to one line.
  el.classList.toggle("stepping", cur?.type === "backward" || cur?.type === "update" || atStop);
  el.classList.toggle("failed", !!(cur?.type === "backward" && cur.step.failed) || atStop);
  if (atStop) {
    el.innerHTML = failedHtml(error, { t, message }, error.line ? t("explain.stoppedAt", { line: error.line }) : t("explain.stopped"));
    return;
  }
  if (!hasBackward) { el.innerHTML = `<p class="muted waiting">${h(t("explain.beforeStop"))}</p>`; return; }
  el.innerHTML = explanationHtml(index, cur, { t, message, error }) ||
    `<h3>${h(t("explain.title"))}</h3><p class="muted waiting">${h(t("explain.forward"))}</p>`;
}

// An update step (UpdateStep, app/trace_model.py) in words: `optimizer.step()` or `w -= lr * w.grad`
// with each parameter before and after, the gradient it used, the rule with its numbers, the
// learning rate and the optimizer's state; `zero_grad()` as the gradients it clears.
import { inlineValue, fmtNumber, escapeHtml as h } from "./format.js";
import { markGradients } from "./explain.js";
import { clearedText } from "./passes.js";

// The rules, in symbols (the same in every language). g is the gradient dJ/dw.
const RULES = {
  SGD: (hyper) => [
    ...(num(hyper.weight_decay) ? ["g ← g + weight_decay·w"] : []),
    ...(num(hyper.momentum) ? ["v ← momentum·v + (1 − dampening)·g", hyper.nesterov === true ? "w ← w − lr·(g + momentum·v)" : "w ← w − lr·v"] : ["w ← w − lr·g"]),
  ],
  Adam: (hyper) => [
    ...(num(hyper.weight_decay) ? ["g ← g + weight_decay·w"] : []),
    "m ← β1·m + (1 − β1)·g", "v ← β2·v + (1 − β2)·g²", "w ← w − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + eps)",
  ],
  AdamW: () => ["w ← w − lr·weight_decay·w", "m ← β1·m + (1 − β1)·g", "v ← β2·v + (1 − β2)·g²", "w ← w − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + eps)"],
  manual: () => ["w ← w − lr·g"],
};

function num(v) { return typeof v === "number" && v !== 0; }

function names(list) { return list.map((n) => `${n}`).join(", "); }

/** The sentence under the player for an update step (`cur` is a timeline entry of type "update"). */
export function updateWords(cur, { t, source }) {
  const u = cur.update;
  const line = u.span?.line;
  let text;
  if (u.kind === "zero_grad") text = t("update.clearedWords", { names: names(u.cleared.map((n) => `${n}.grad`)), value: clearedText(u, source) });
  else if (u.params.length === 1 && u.params[0].text) text = u.params[0].text;
  else if (u.kind === "optimizer") text = t("update.optimizerWords", { optimizer: u.optimizer ?? "optimizer", names: names(u.params.map((p) => p.name)) });
  else text = t("update.manualWords", { names: names(u.params.map((p) => p.name)) });
  return t("step.update", { i: cur.u + 1, n: cur.n, line, text });
}

function hyperHtml(hyper, t) {
  const entries = Object.entries(hyper ?? {}).filter(([, v]) => v !== null && v !== false && v !== "");
  if (!entries.length) return "";
  const items = entries.map(([k, v]) => `<code${k === "lr" ? ' class="lr"' : ""}>${h(k)} = ${h(typeof v === "number" ? fmtNumber(v) : v)}</code>`);
  return `<p class="update-hyper"><span class="muted">${h(t("update.hyper"))}:</span> ${items.join(" ")}</p>`;
}

function paramHtml(p, t) {
  const code = (value, cls, title) => `<code class="${cls}" title="${h(title)}">${h(inlineValue(value, { t }))}</code>`;
  const grad = p.grad ? ` <span class="muted">${h(t("update.grad"))}</span> ${code(p.grad, "grad", t("update.grad"))}` : "";
  const change = `<p class="update-change"><code class="name">${h(p.name)}</code> ${code(p.before, "before", t("update.before"))}` +
    ` → ${code(p.after, "after", t("update.after"))}${grad}</p>`;
  const text = p.text ? `<p class="update-text">${markGradients(p.text)}</p>` : "";
  const state = Object.entries(p.state ?? {}).map(([k, v]) => {
    const label = t(`update.state.${k}`) === `update.state.${k}` ? k : t(`update.state.${k}`);
    return `<span class="muted">${h(label)}</span> ${code(v, "state", label)}`;
  });
  return `<div class="update-param" data-param="${h(p.name)}">${change}${text}${state.length ? `<p class="update-state">${state.join(" ")}</p>` : ""}</div>`;
}

/** HTML for the explanation panel at an update step. */
export function updateHtml(cur, { t, source }) {
  const u = cur.update;
  const where = u.span ? ` <button type="button" class="link" data-line="${u.span.line}">${h(t("inspector.line", { line: u.span.line }))}</button>` : "";
  const title = u.kind === "optimizer" ? t("update.title.optimizer", { optimizer: u.optimizer ?? "" }) : t(`update.title.${u.kind}`);
  let html = `<h3>${h(title)} <span class="muted">· ${h(t("update.count", { i: cur.u + 1, n: cur.n }))}</span>${where}</h3>`;
  if (u.kind === "zero_grad") {
    const value = clearedText(u, source);
    html += `<p class="update-cleared">${u.cleared.map((n) => `<code class="grad">${h(n)}.grad ← ${h(value)}</code>`).join(" ")}</p>`;
    return `${html}<p>${h(t("update.clearedWhy"))}</p>`;
  }
  html += hyperHtml(u.hyper, t);
  const rule = RULES[u.kind === "manual" ? "manual" : u.optimizer]?.(u.hyper ?? {});
  if (rule) html += `<p class="update-rule"><span class="muted">${h(t("update.rule"))}:</span> ${rule.map((r) => `<code>${h(r)}</code>`).join("<span class=\"sep\">;</span> ")}</p>`;
  else html += `<p class="update-rule muted">${h(t("update.ruleUnknown", { optimizer: u.optimizer ?? "" }))}</p>`;
  return html + `<div class="update-params">${u.params.map((p) => paramHtml(p, t)).join("")}</div>`;
}

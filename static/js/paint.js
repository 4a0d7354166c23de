// Where each line of text sits inside a scene node, the same for the SVG renderer (svg-view.js) and
// the canvas renderer (canvas-view.js), and the colours the canvas uses. The SVG takes its colours
// from graph.css; PALETTE repeats them for the canvas (keep the two in step).
import { FONTS, textWidth } from "./scene.js";

export const PALETTE = {
  edge: "#8a8a8a", edgeHl: "#1f1f1f", grad: "#b8437f", gradText: "#a8336f", gradPending: "#d9a9c4",
  text: "#1a1a1a", meta: "#5a5a5a", hidden: "#9a9a9a", selected: "#000000", flowNo: "#b0b0b0",
  active: "#f0e442", accumulate: "#f7dcea",
  role: {
    param: { fill: "#fff1d1", stroke: "#b57c00", width: 2.6 },
    constant: { fill: "#f3f3f3", stroke: "#8c8c8c", width: 1.6, dash: [5, 3] },
    intermediate: { fill: "#e2eff9", stroke: "#0072b2", width: 1.6 },
    root: { fill: "#d9f2e9", stroke: "#00795a", width: 3.2 },
    op: { fill: "#ffffff", stroke: "#555555", width: 1.6 },
    group: { fill: "#f4f1fa", stroke: "#5b4a8b", width: 2 },
    ref: { fill: "#ffffff", stroke: "#8a8a8a", width: 1.2, dash: [3, 2] },
  },
  frame: ["#fbfaf7", "#f5f3ee", "#efece5", "#e9e5dc"],
  frameStroke: "#b9b2a3", frameHead: "#e8e3d8",
};

/** Text runs of a node, relative to its top-left corner: [{text, x, y, font, cls, anchor}]. */
export function textRuns(kind, l, w, h, m) {
  if (!l) return [];
  const sans = (size, weight = "") => `${weight ? `${weight} ` : ""}${size}px ${FONTS.sans}`;
  const mono = `${m.value}px ${FONTS.mono}`;
  if (kind === "op") return [{ text: l.title, x: w / 2, y: h / 2, font: sans(m.op, 600), cls: "t-op", anchor: "middle", middle: true }];
  if (kind === "ref") return [{ text: l.title, x: w / 2, y: h / 2, font: sans(m.meta, 600), cls: "t-ref", anchor: "middle", middle: true }];
  let y = m.padY;
  const runs = [];
  if (kind === "group") {
    const x0 = m.padX + m.toggle + m.gap;
    runs.push({ text: l.title, x: x0, y: (y += m.lineTitle) - 4, font: sans(m.title, 700), cls: "t-name" });
    runs.push({ text: l.meta, x: x0 + textWidth(l.title, sans(m.title, 700)) + m.gap, y: y - 4, font: sans(m.meta), cls: "t-meta" });
    if (l.inputs) runs.push({ text: l.inputs, x: m.padX, y: (y += m.lineValue) - 4, font: sans(m.meta), cls: "t-in" });
    for (const o of l.outs) {
      runs.push({ text: o.value, x: m.padX, y: (y += m.lineValue) - 4, font: mono, cls: o.value.endsWith("= …") ? "t-value hidden-value" : "t-value" });
      if (o.grad) runs.push({ text: o.grad, x: m.padX, y: (y += m.lineValue) - 4, font: mono, cls: o.grad === "∇ …" ? "t-grad pending" : "t-grad" });
    }
    return runs;
  }
  runs.push({ text: l.title, x: m.padX, y: (y += m.lineTitle) - 4, font: sans(m.title, 700), cls: "t-name" });
  runs.push({ text: l.meta, x: m.padX + textWidth(l.title, sans(m.title, 700)) + m.gap, y: y - 4, font: sans(m.meta), cls: "t-meta" });
  runs.push({ text: l.value, x: m.padX, y: (y += m.lineValue) - 4, font: mono, cls: l.value === "…" ? "t-value hidden-value" : "t-value" });
  if (l.grad) runs.push({ text: l.grad, x: m.padX, y: (y += m.lineValue) - 4, font: mono, cls: l.grad === "∇ …" ? "t-grad pending" : "t-grad" });
  return runs;
}

/** A frame's header text: where it starts and its font. */
export function headerRun(text, m) {
  return { text, x: m.framePad + m.toggle + m.gap, y: m.header / 2, font: `700 ${m.meta + 0.5}px ${FONTS.sans}`, cls: "frame-title", middle: true };
}

/** The expand/collapse button of a group: its box relative to the group's top-left corner. */
export function toggleBox(kind, m) {
  const s = m.toggle - 4;
  return kind === "frame" ? { x: m.framePad, y: (m.header - s) / 2, s } : { x: m.padX - 2, y: m.padY + (m.lineTitle - s) / 2 - 1, s };
}

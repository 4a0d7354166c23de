// Node sizes from their text, measured on a canvas with the same fonts the SVG uses, so that the
// layout leaves room for every label (nothing overlaps, nothing is cut off): tensors, ops, collapsed
// groups (group-lines.js gives their text), references to a shared tensor, and group frames.
import { nodeLines } from "./model.js";

export const FONTS = {
  sans: '"DejaVu Sans", "Segoe UI", "Helvetica Neue", Arial, sans-serif',
  mono: '"DejaVu Sans Mono", "SFMono-Regular", Menlo, Consolas, monospace',
};

/** Font sizes and paddings at a given scale (presentation mode uses a larger one). */
export function metrics(scale = 1) {
  const s = (v) => Math.round(v * scale * 10) / 10;
  return {
    scale,
    title: s(13), meta: s(10.5), value: s(12), op: s(12.5),
    lineTitle: s(17), lineValue: s(16), gap: s(7),
    padX: s(9), padY: s(5), opH: s(23), minW: s(56), minOpW: s(34),
    // Groups: a frame's padding and header line, a collapsed box's expand button, a port's size.
    framePad: s(6), header: s(22), toggle: s(16), port: s(6), refH: s(20), refGap: s(6),
  };
}

let ctx = null;
export function textWidth(text, font) {
  if (!ctx) ctx = document.createElement("canvas").getContext("2d");
  ctx.font = font;
  return ctx.measureText(text).width;
}

/** Lines of a tensor node give its height; the widest line gives its width. */
export function sizeNode(node, lines, m) {
  if (node.kind === "op") {
    const w = Math.max(m.minOpW, textWidth(lines.title, `600 ${m.op}px ${FONTS.sans}`) + 2 * m.padX + 6);
    return { w, h: m.opH };
  }
  // First line: the name in bold, then shape and dtype in small type; then the value; then the gradient.
  const widths = [
    textWidth(lines.title, `700 ${m.title}px ${FONTS.sans}`) + m.gap + textWidth(lines.meta, `${m.meta}px ${FONTS.sans}`),
    textWidth(lines.value, `${m.value}px ${FONTS.mono}`),
    lines.grad ? textWidth(lines.grad, `${m.value}px ${FONTS.mono}`) : 0,
  ];
  const w = Math.max(m.minW, Math.max(...widths) + 2 * m.padX);
  const h = 2 * m.padY + m.lineTitle + m.lineValue + (lines.grad ? m.lineValue : 0);
  return { w: Math.ceil(w), h: Math.ceil(h) };
}

/** Scene nodes (sizes for layout) for the visible graph, measured with the final frame's text. */
export function sceneNodes(graph, hasBackward, m) {
  return graph.nodes.map((node) => {
    const lines = nodeLines(node, null, hasBackward);
    return { id: node.id, kind: node.kind, role: node.role ?? null, ...sizeNode(node, lines, m), hasGrad: !!lines.grad };
  });
}

/** A collapsed group: title and meta, then its inputs line, then each output's value and gradient. */
export function sizeGroup(lines, m) {
  const mono = `${m.value}px ${FONTS.mono}`;
  const widths = [
    m.toggle + m.gap + textWidth(lines.title, `700 ${m.title}px ${FONTS.sans}`) + m.gap + textWidth(lines.meta, `${m.meta}px ${FONTS.sans}`),
    lines.inputs ? textWidth(lines.inputs, `${m.meta}px ${FONTS.sans}`) : 0,
    ...lines.outs.flatMap((o) => [textWidth(o.value, mono), o.grad ? textWidth(o.grad, mono) : 0]),
  ];
  const rows = (lines.inputs ? 1 : 0) + lines.outs.reduce((k, o) => k + 1 + (o.grad ? 1 : 0), 0);
  return {
    w: Math.ceil(Math.max(m.minW * 2, Math.max(...widths) + 2 * m.padX)),
    h: Math.ceil(2 * m.padY + m.lineTitle + rows * m.lineValue),
  };
}

/** A reference to a shared tensor: its name in a small box next to the op that reads it. */
export function sizeRef(title, m) {
  return { w: Math.ceil(Math.max(m.minOpW, textWidth(title, `600 ${m.meta}px ${FONTS.sans}`) + 2 * m.padX)), h: m.refH };
}

/** The width an expanded group's header needs. */
export function headerWidth(text, m) {
  return Math.ceil(m.toggle + m.gap + textWidth(text, `700 ${m.meta + 0.5}px ${FONTS.sans}`) + 2 * m.framePad + m.gap);
}

// Downloads: the graph as a standalone SVG (its own styles, white background) or PNG (rendered from
// that SVG at slide resolution), and the trace as JSON.

let cssText = null;
async function graphCss() {
  if (cssText === null) {
    try { cssText = await (await fetch("/static/css/graph.css")).text(); } catch { cssText = ""; }
  }
  return cssText;
}

/** A standalone SVG document of the whole graph (not just the part in view), as text. */
export async function graphSvgText(svgElement, scene) {
  const margin = 16;
  const width = Math.ceil(scene.width + 2 * margin);
  const height = Math.ceil(scene.height + 2 * margin);
  const clone = svgElement.cloneNode(true);
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", width);
  clone.setAttribute("height", height);
  clone.setAttribute("viewBox", `0 0 ${width} ${height}`);
  clone.removeAttribute("style");
  clone.querySelectorAll("circle.pulse, g.focus-ring").forEach((c) => c.remove());
  clone.querySelector("g.viewport").setAttribute("transform", `translate(${margin},${margin})`);
  const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = await graphCss();
  clone.insertBefore(style, clone.firstChild);
  const bg = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  bg.setAttribute("width", width);
  bg.setAttribute("height", height);
  bg.setAttribute("fill", "#ffffff");
  clone.insertBefore(bg, style.nextSibling);
  return { text: new XMLSerializer().serializeToString(clone), width, height };
}

export async function graphPngBlob(svgElement, scene) {
  const { text, width, height } = await graphSvgText(svgElement, scene);
  // At least 1920 px wide (a slide), at most 8000 px on a side.
  const scale = Math.min(Math.max(2, 1920 / width), 8000 / Math.max(width, height));
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  try {
    img.src = url;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function download(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export async function exportAs(kind, { svgElement, scene, trace }) {
  if (kind === "json") {
    // The trace as the contract has it: edges are the page's own (derived), not part of it.
    const { edges, ...contract } = trace;
    download(new Blob([JSON.stringify(contract, null, 2)], { type: "application/json" }), "grafo-trace.json");
  } else if (kind === "svg") {
    const { text } = await graphSvgText(svgElement, scene);
    download(new Blob([text], { type: "image/svg+xml" }), "grafo-graph.svg");
  } else if (kind === "png") {
    download(await graphPngBlob(svgElement, scene), "grafo-graph.png");
  }
}

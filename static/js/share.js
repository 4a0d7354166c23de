// URL state: the program lives in the fragment (#p=...), deflate-compressed with the browser's own
// CompressionStream and base64url-encoded, so a link reopens the same program and graph; the step,
// the selected node, eps and the language follow it (&s=12&n=t3&e=1e-7&l=pt-BR).

function toBase64Url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

export async function encodeProgram(source) {
  const packed = await pipe(new TextEncoder().encode(source), new CompressionStream("deflate-raw"));
  return `p=${toBase64Url(packed)}`;
}

/** The program in a fragment, or null when there is none (or it is damaged). */
export async function decodeProgram(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const packed = params.get("p");
  if (!packed) return null;
  try {
    return new TextDecoder().decode(await pipe(fromBase64Url(packed), new DecompressionStream("deflate-raw")));
  } catch {
    return null;
  }
}

/**
 * What a link holds besides the program: the player's step (`s`), the selected node (`n`), the
 * gradient check's eps (`e`) and the language (`l`). Only what is set is written.
 */
export function encodeView({ pos = null, selected = null, eps = null, lang = null } = {}) {
  const params = new URLSearchParams();
  if (Number.isInteger(pos)) params.set("s", String(pos));
  if (selected) params.set("n", selected);
  if (eps !== null && eps !== 0.001) params.set("e", String(eps));
  if (lang) params.set("l", lang);
  return params.toString();
}

/**
 * A link's fragment read back: {source, pos, selected, eps, lang, broken}. `source` is null when the
 * link has no program; `broken` is true when it has one that cannot be read (cut short, mistyped).
 */
export async function decodeLink(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const source = await decodeProgram(hash);
  const pos = Number(params.get("s"));
  const eps = Number(params.get("e"));
  return {
    source,
    broken: params.has("p") && source === null,
    pos: params.has("s") && Number.isInteger(pos) && pos >= 0 ? pos : null,
    selected: params.get("n") || null,
    eps: params.has("e") && Number.isFinite(eps) && eps > 0 && eps <= 1 ? eps : null,
    lang: params.get("l") || null,
  };
}

/** The page's address with the program and the view in its fragment. */
export async function shareUrl(source, view = {}) {
  const url = new URL(location.href);
  const extra = encodeView(view);
  url.hash = `${await encodeProgram(source)}${extra ? `&${extra}` : ""}`;
  return url.toString();
}

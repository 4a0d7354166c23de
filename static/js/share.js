// URL state: the program lives in the fragment (#p=...), deflate-compressed with the browser's own
// CompressionStream and base64url-encoded, so a link reopens the same program and graph.

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

export async function shareUrl(source) {
  const url = new URL(location.href);
  url.hash = await encodeProgram(source);
  return url.toString();
}

// The REST API client: POST /api/trace and GET /api/examples. Errors come back as values, not throws.
import { inflateTrace } from "./trace-wire.js";

/**
 * Resolves to {trace} or {error: {kind, message, line, col}, status, trace?} (a program error sends
 * the trace of what ran). `passes`: pass numbers to record in full besides the first and the last.
 */
export async function traceProgram(source, { root = null, gradcheck = true, eps = 0.001, passes = null } = {}) {
  let response;
  try {
    response = await fetch("/api/trace", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ source, root, gradcheck, eps, ...(passes?.length ? { passes } : {}) }),
    });
  } catch (err) {
    return { error: { kind: "network", message: String(err.message ?? err) }, status: 0 };
  }
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (response.ok && body && body.nodes) return { trace: inflateTrace(body) };
  if (body && body.error) return { error: body.error, status: response.status, ...(body.trace?.nodes ? { trace: inflateTrace(body.trace) } : {}) };
  const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : response.statusText;
  return { error: { kind: "http", message: `${response.status} ${detail}` }, status: response.status };
}

export async function fetchExamples() {
  try {
    const response = await fetch("/api/examples");
    if (!response.ok) return [];
    const body = await response.json();
    return Array.isArray(body) ? body : body.examples ?? [];
  } catch {
    return [];
  }
}

// The groups of a trace (groups.js): built at once for a small trace, in a worker (groups-worker.js)
// for a large one, so that the main thread never stalls on it. A newer request makes an older one's
// answer null.
import { buildGroups, makeTree } from "./groups.js";
import { encodeTrace, decodeTree } from "./tree-codec.js";

const WORKER_ABOVE = 1500; // trace nodes
let worker = null;
let latest = 0;
const pending = new Map();

function getWorker() {
  if (worker) return worker;
  worker = new Worker(new URL("./groups-worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (event) => {
    const entry = pending.get(event.data.id);
    if (!entry) return;
    pending.delete(event.data.id);
    if (event.data.error) entry.reject(new Error(event.data.error));
    else entry.resolve(event.data);
  };
  worker.onerror = (event) => {
    for (const entry of pending.values()) entry.reject(new Error(event.message || "groups worker failed"));
    pending.clear();
    worker = null;
  };
  return worker;
}

/** Resolves to the tree of `index.trace`, or null when a newer trace was given meanwhile. */
export async function analyse(index) {
  const id = ++latest;
  for (const [k, entry] of pending) { pending.delete(k); entry.resolve(null); }
  const { trace, byId } = index;
  if (trace.nodes.length <= WORKER_ABOVE) return buildGroups(trace);
  const data = await new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    const { columns, strings, transfer } = encodeTrace(trace);
    getWorker().postMessage({ id, columns, strings }, transfer);
  });
  if (!data || id !== latest) return null;
  return makeTree(decodeTree(data, trace), byId);
}

// The main-thread side of the layout worker (layouter-worker.js): send a batch of group layouts, receive
// each group as it is done (progress), and stop a batch that is no longer wanted by terminating the
// worker: a layout is plain computation, so a running one cannot be interrupted any other way. Results
// already received are kept by the caller; a new worker starts with the next batch.

export function createLayouter() {
  let worker = null;
  let nextId = 1;
  let running = null; // {id, resolve, reject, onGroup}

  function spawn() {
    // Written out in full: app/local/page.py finds workers by this pattern to inline them.
    worker = new Worker(new URL("./layouter-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = (event) => {
      const msg = event.data;
      if (!running || msg.id !== running.id) return;
      if (msg.type === "group") running.onGroup(msg);
      else if (msg.type === "done") { const r = running; running = null; r.resolve({ ms: msg.ms }); }
      else if (msg.type === "error") { const r = running; running = null; r.reject(new Error(msg.error)); }
    };
    worker.onerror = (event) => {
      const r = running;
      running = null;
      worker = null;
      r?.reject(new Error(event.message || "layout worker failed"));
    };
  }

  /** Stop the running batch (its promise resolves to null). */
  function cancel() {
    if (!running) return false;
    worker?.terminate();
    worker = null;
    const r = running;
    running = null;
    r.resolve(null);
    return true;
  }

  /**
   * Lay out `jobs` (children before parents; see layouter-worker.js for their fields). `known`: sizes of
   * expanded groups laid out earlier. Resolves to {ms}, or null when cancelled or superseded.
   */
  function run(jobs, { known = {}, options = {}, onGroup = () => {} } = {}) {
    cancel();
    if (!worker) spawn();
    const id = nextId++;
    return new Promise((resolve, reject) => {
      running = { id, resolve, reject, onGroup };
      const transfer = [];
      for (const j of jobs) transfer.push(j.sizes.buffer, j.kinds.buffer, j.edges.buffer);
      worker.postMessage({ id, jobs, known, options }, transfer);
    });
  }

  return { run, cancel, busy: () => !!running };
}

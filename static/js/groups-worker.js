// Web Worker: builds the groups of a large trace (groups.js) off the main thread. Both ways the data
// travels as columns (tree-codec.js). In: {id, columns, strings}; out: {id, root, columns, strings}.
import { buildGroups } from "./groups.js";
import { decodeTrace, encodeTree } from "./tree-codec.js";

self.onmessage = (event) => {
  const { id } = event.data;
  try {
    const { root, columns, strings, transfer } = encodeTree(buildGroups(decodeTrace(event.data)));
    self.postMessage({ id, root, columns, strings }, transfer);
  } catch (error) {
    self.postMessage({ id, error: String(error && error.stack ? error.stack : error) });
  }
};

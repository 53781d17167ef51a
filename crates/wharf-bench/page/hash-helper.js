// A second worker that only hashes: chunks arrive as transferred ArrayBuffers and go back empty
// (a buffer pool shared with the reading worker), so reading + staging and hashing run on two
// threads. Used by pipeline-worker.js to measure what splitting the pipeline would give.
import initWharf, { Sha256 } from "./wharf/wharf_bench_hashwasm.js";

const ready = initWharf();
let hasher = null;

onmessage = async (event) => {
  await ready;
  const m = event.data;
  if (m.buffer) {
    hasher ??= new Sha256();
    hasher.update(new Uint8Array(m.buffer, 0, m.length));
    postMessage({ buffer: m.buffer }, [m.buffer]);
  } else if (m.finish) {
    const digest = (hasher ?? new Sha256()).finish();
    if (hasher) hasher.free();
    hasher = null;
    postMessage({ digest });
  }
};

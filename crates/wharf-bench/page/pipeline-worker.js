// Profiles the download worker's pipeline step by step on one blob URL (through the relay), in a
// dedicated worker like wharf's: a BYOB reader filling one reused buffer (`read(view, {min})`),
// then optionally a copy, wharf's hasher (one copy into Wasm memory + SHA-256), and writes
// through an OPFS sync access handle. Each pass reports milliseconds; the hash must match.
import initWharf, { Sha256 } from "./wharf/wharf_bench_hashwasm.js";

const STEPS = {
  fetch: { copy: false, hash: false, write: false },
  "fetch+copy": { copy: true, hash: false, write: false },
  "fetch+hash": { copy: false, hash: true, write: false },
  "fetch+write": { copy: false, hash: false, write: true },
  "fetch+hash+write": { copy: false, hash: true, write: true },
};

async function pass(url, chunk, step, file) {
  const t0 = performance.now();
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  const reader = response.body.getReader({ mode: "byob" });
  const spare = new Uint8Array(chunk);
  const hasher = step.hash ? new Sha256() : null;
  let buffer = new ArrayBuffer(chunk);
  let at = 0;
  if (file) file.truncate(0);
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer), { min: chunk });
    if (value) {
      buffer = value.buffer;
      if (step.copy) spare.set(value);
      if (hasher) hasher.update(value);
      if (file) at += file.write(value, { at });
      else at += value.length;
    }
    if (done) break;
  }
  if (file) file.flush();
  const digest = hasher ? hasher.finish() : null;
  if (hasher) hasher.free();
  return { ms: performance.now() - t0, bytes: at, digest };
}

onmessage = async (event) => {
  const url = event.data.url;
  const runs = Number(event.data.runs || 3);
  const chunks = (event.data.chunks || "1048576").split(",").map(Number);
  let root = null;
  let handle = null;
  try {
    await initWharf();
    root = await navigator.storage.getDirectory();
    const fileHandle = await root.getFileHandle("wharf-bench-profile.bin", { create: true });
    handle = await fileHandle.createSyncAccessHandle();
    const results = {};
    // Every step with the default chunk, then the full pipeline with the other chunk sizes.
    const plan = Object.keys(STEPS).map((name) => [name, chunks[0]]);
    for (const size of chunks.slice(1)) plan.push(["fetch+hash+write", size]);
    for (let round = 0; round < runs; round++) {
      for (const [name, size] of plan) {
        const step = STEPS[name];
        const key = `${name} @ ${size >> 20} MiB`;
        const r = await pass(url, size, step, step.write ? handle : null);
        results[key] ??= { ms: [], bytes: r.bytes, digests: [] };
        results[key].ms.push(r.ms);
        if (r.digest) results[key].digests.push(r.digest);
        postMessage({ progress: `round ${round} ${key} ${r.ms.toFixed(0)} ms` });
      }
    }
    postMessage({ done: true, results });
  } catch (err) {
    postMessage({ error: String((err && err.stack) || err) });
  } finally {
    if (handle) handle.close();
    if (root) await root.removeEntry("wharf-bench-profile.bin").catch(() => {});
  }
};

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

// Reading + OPFS writes here, hashing in a second worker; buffers travel (transferred, not
// copied) through a pool of `depth` chunks, which also bounds memory.
async function splitPass(url, chunk, file, helper, depth = 4) {
  const t0 = performance.now();
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  const reader = response.body.getReader({ mode: "byob" });
  const free = Array.from({ length: depth }, () => new ArrayBuffer(chunk));
  let waiting = null;
  let digestDone = null;
  helper.onmessage = (event) => {
    if (event.data.buffer) {
      free.push(event.data.buffer);
      if (waiting) waiting();
    } else if (digestDone) {
      digestDone(event.data.digest);
    }
  };
  let at = 0;
  file.truncate(0);
  for (;;) {
    while (free.length === 0) await new Promise((resolve) => (waiting = resolve));
    waiting = null;
    const { done, value } = await reader.read(new Uint8Array(free.pop()), { min: chunk });
    if (value) {
      at += file.write(value, { at });
      if (value.length > 0) {
        helper.postMessage({ buffer: value.buffer, length: value.length }, [value.buffer]);
      } else {
        free.push(value.buffer);
      }
    }
    if (done) break;
  }
  file.flush();
  const digest = await new Promise((resolve) => {
    digestDone = resolve;
    helper.postMessage({ finish: true });
  });
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
    // Every step with the default chunk, then the full pipeline with the other chunk sizes;
    // with `static`, the same blob as a plain same-origin file (no relay) too.
    const plan = Object.keys(STEPS).map((name) => [name, chunks[0], url, ""]);
    for (const size of chunks.slice(1)) plan.push(["fetch+hash+write", size, url, ""]);
    if (event.data.static) {
      for (const name of ["fetch", "fetch+hash+write"]) {
        plan.push([name, chunks[0], event.data.static, " (static file)"]);
      }
    }
    plan.push(["fetch+write | hash in a 2nd worker", chunks[0], url, ""]);
    const helper = new Worker("hash-helper.js", { type: "module" });
    for (let round = 0; round < runs; round++) {
      for (const [name, size, source, label] of plan) {
        const step = STEPS[name];
        const key = `${name} @ ${size >> 10} KiB${label}`;
        const r = step
          ? await pass(source, size, step, step.write ? handle : null)
          : await splitPass(source, size, handle, helper);
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

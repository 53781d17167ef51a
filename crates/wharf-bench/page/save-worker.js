// Save-path prototype (bench only; see src/saveproto.rs), the dedicated worker: fetches a blob
// with a BYOB reader and verifies it, then either stages it in OPFS (mode opfs: today's path,
// the page hands the staged File over with <a download>) or streams it to the save service
// worker over a MessagePort (modes sw, sw-nohash; sw2 hashes in a nested worker). Protocol: see
// save-sw.js. Answers the page with {t: "done", ok, digest, bytes, ms, ...} per run.
import initWharf, { Sha256 } from "./wharf/wharf_bench_hashwasm.js";
import { sender } from "./save-port.js";

const ready = initWharf();
let opfs = null;
let hasherWorker = null;

onmessage = async (event) => {
  const m = event.data;
  try {
    await ready;
    let result;
    if (m.mode === "opfs") result = await opfsRun(m);
    else if (m.mode === "sw2") result = await splitRun(m);
    else result = await streamRun(m, m.port, m.mode !== "sw-nohash");
    postMessage({ t: "done", id: m.id, ...result });
  } catch (err) {
    postMessage({ t: "done", id: m.id, ok: false, error: String((err && err.stack) || err) });
  }
};

async function open(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.body.getReader({ mode: "byob" });
}

// Flag `default` (bench only): the body's own chunks (a default reader, no BYOB, no copy); the
// view passed to read() is ignored.
async function openDefault(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  const reader = response.body.getReader();
  return {
    read: async () => {
      const { done, value } = await reader.read();
      return { done, value: value || new Uint8Array(0) };
    },
    cancel: (reason) => reader.cancel(reason),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Today's path: fetch + hash + write through a sync access handle; the page downloads the file.
async function opfsRun(m) {
  const t0 = performance.now();
  opfs ??= await navigator.storage.getDirectory();
  const handle = await (await opfs.getFileHandle(m.file, { create: true })).createSyncAccessHandle();
  try {
    handle.truncate(0);
    const reader = await open(m.url);
    const hasher = new Sha256();
    let buffer = new ArrayBuffer(m.chunk);
    let at = 0;
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buffer), { min: m.chunk });
      if (value) {
        buffer = value.buffer;
        hasher.update(value);
        at += handle.write(value, { at });
      }
      if (done) break;
    }
    handle.flush();
    const digest = hasher.finish();
    hasher.free();
    return { ok: digest === m.digest && at === m.size, digest, bytes: at, ms: performance.now() - t0 };
  } finally {
    handle.close();
  }
}

// Modes sw / sw-nohash: read, hash, send one chunk behind; the held-back last chunk goes only
// after the digest and size were checked.
async function streamRun(m, port, hash) {
  const t0 = performance.now();
  // Buffers to read into: with `clone`, two that alternate (one held back, one being read);
  // with `recycle`, the ones the service worker gives back; otherwise a fresh one per read
  // (the previous one was transferred away).
  const pool = [];
  const out = sender(port, { clone: m.clone, pool: m.recycle || m.copy ? pool : null });
  const fresh = () => pool.pop() || new ArrayBuffer(m.chunk);
  let spare = m.clone ? new ArrayBuffer(m.chunk) : null;
  let reader = null;
  try {
    // Flag `nofetch` (bench only): zeros made up here instead of the blob.
    let left = m.size;
    reader = m.nofetch
      ? {
          read: async (view) => {
            const n = Math.min(view.length, left);
            left -= n;
            return { done: left === 0, value: new Uint8Array(view.buffer, 0, n) };
          },
          cancel: async () => {},
        }
      : m.default
        ? await openDefault(m.url)
        : await open(m.url);
    const hasher = hash ? new Sha256() : null;
    let held = null;
    let bytes = 0;
    let sendMs = 0;
    let chunks = 0;
    for (;;) {
      const into = m.default ? null : spare || fresh();
      const { done, value } = await reader.read(into && new Uint8Array(into), { min: m.chunk });
      if (value && value.length > 0) {
        if (hasher) hasher.update(value);
        bytes += value.length;
        chunks += 1;
        if (held) {
          const s = performance.now();
          await out.send(held);
          sendMs += performance.now() - s;
          if (m.delayMs) await sleep(m.delayMs);
        }
        if (m.clone) spare = held ? held.buffer : new ArrayBuffer(m.chunk);
        held = value;
      }
      if (done) break;
    }
    const digest = hasher ? hasher.finish() : m.digest;
    if (hasher) hasher.free();
    const ok = digest === m.digest && bytes === m.size;
    if (!ok) out.abort(`sha256:${digest} (${bytes} bytes) is not sha256:${m.digest} (${m.size} bytes)`);
    else if (held) await out.send(held, true);
    else out.end();
    return { ok, digest, bytes, chunks, ms: performance.now() - t0, waitForCreditMs: sendMs };
  } catch (err) {
    out.abort(String(err));
    if (reader) reader.cancel().catch(() => {});
    throw err;
  }
}

// Mode sw2: this worker only reads; a nested worker hashes, holds back and sends to the service
// worker. Chunks travel here -> hasher transferred; the hasher returns a credit per chunk it
// forwarded (so at most `window` chunks wait in the hasher).
async function splitRun(m) {
  const t0 = performance.now();
  hasherWorker ??= new Worker("save-hasher.js", { type: "module" });
  const channel = new MessageChannel();
  const out = sender(channel.port1);
  const result = new Promise((resolve) => {
    hasherWorker.onmessage = (event) => resolve(event.data);
  });
  hasherWorker.postMessage({ ...m, port: undefined, sw: m.port, up: channel.port2 }, [
    m.port,
    channel.port2,
  ]);
  const reader = await open(m.url);
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(new ArrayBuffer(m.chunk)), {
      min: m.chunk,
    });
    if (value && value.length > 0) await out.send(value);
    if (done) break;
  }
  out.end();
  const r = await result;
  return { ...r, ms: performance.now() - t0 };
}

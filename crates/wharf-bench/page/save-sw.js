// Save-path prototype (bench only; see src/saveproto.rs): a service worker, scoped to
// `./relay/save-proto/` so that it sees nothing but the downloads it serves, that answers a
// navigation to `relay/save-proto/<id>/<name>` with a streamed attachment. The bytes come either
// from a port (another worker fetches, hashes and sends chunks; modes sw, sw2, sw-nohash) or from a fetch
// the service worker makes and hashes itself (mode swfetch). Either way the last chunk is only
// enqueued after the digest and size were verified, so a wrong blob never completes a download.
//
// Port protocol (P = producer: the worker that hashes; S = this service worker):
//   page -> S (registration.active.postMessage, ports [port]):
//        {t: "register", id, name, size, contentLength, ...swfetch fields}
//   S -> page (event.source): {t: "registered", id}
//   S -> P: {t: "credit", n}      P may send n more chunks (window, then one per chunk taken);
//                                 the first credit also says the download started
//   S -> P: {t: "return", buf}    option copy: P's buffer back (copied out), for reuse
//   P -> S: {t: "chunk", buf, off, len, final}   buf transferred; final: verified, close after it
//   P -> S: {t: "end"}            verified and nothing held back (empty blob)
//   P -> S: {t: "abort", reason}  mismatch or fetch failure: the stream is errored
//   P -> S: {t: "alive"}          every few seconds: the service worker errors the stream after
//                                 `idleMs` of silence (the page was closed: no close event)
//   S -> P: {t: "cancel", reason} the browser cancelled the download: stop fetching
import initWharf, { Sha256 } from "./wharf/wharf_bench_hashwasm.js";

const pending = new Map();
let wasm = null;

self.addEventListener("install", (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  const m = event.data;
  if (m && m.t === "register") {
    pending.set(m.id, { ...m, port: event.ports[0] });
    // A registration whose navigation never comes (blocked, or it bypassed this worker).
    setTimeout(() => pending.delete(m.id), 60_000);
    event.source.postMessage({ t: "registered", id: m.id });
  }
  if (m && m.t === "echo") {
    // Bench only: sends every message back, transferring its buffer (cost of a port hop).
    const port = event.ports[0];
    port.onmessage = (e) => port.postMessage(e.data, e.data.buf ? [e.data.buf] : []);
  }
  // {t: "ping"}: nothing to do; the event itself extends the worker's lifetime.
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const match = url.pathname.match(/\/save-proto\/([^/]+)\/[^/]+$/);
  if (!match) return;
  const job = pending.get(match[1]);
  if (!job) {
    event.respondWith(new Response("no such download (expired?)", { status: 404 }));
    return;
  }
  pending.delete(match[1]);
  const body =
    job.mode === "swfetch" ? fetchAndHash(job) : job.mode === "synth" ? synthetic(job) : fromPort(job);
  event.respondWith(body.then((stream) => new Response(stream, { headers: headers(job) })));
});

function headers(job) {
  const h = new Headers({
    "Content-Type": "application/octet-stream",
    "Content-Disposition": `attachment; filename*=UTF-8''${encodeURIComponent(job.name)}`,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  // `clExtra` (bench only): claim more bytes than will come, to see whether Chromium checks.
  if (job.contentLength) h.set("Content-Length", String(job.size + (job.clExtra || 0)));
  return h;
}

// Chunks from the port, in order; at most `window` of them wait here (credit-based flow
// control: the producer sends only what it has credit for, and a credit comes back for each
// chunk the browser takes out of the stream).
async function fromPort(job) {
  const port = job.port;
  const queue = [];
  let total = 0;
  let wake = null;
  // Option `recycle`: the chunk enqueued before the last one is given back with the next credit.
  // Only safe while the browser reads one chunk at a time (it does: a pull comes only after the
  // previous chunk was taken and copied out); outside the streams contract, so measured only.
  const lent = [];
  let closing = null; // "close" or an Error, after the queue drains
  let seen = performance.now(); // the producer's last message (see the watchdog below)
  port.onmessage = (event) => {
    const m = event.data;
    seen = performance.now();
    if (m.t === "chunk" && job.copy) {
      // Option `copy`: the chunk is copied into memory allocated here (so this worker's
      // garbage collector sees the allocations) and the producer's buffer goes straight back.
      queue.push(new Uint8Array(m.buf.slice(m.off, m.off + m.len)));
      port.postMessage({ t: "return", buf: m.buf }, [m.buf]);
    } else if (m.t === "chunk") {
      queue.push(new Uint8Array(m.buf, m.off, m.len));
    }
    if (m.t === "chunk") total += m.len;
    if ((m.t === "chunk" && m.final) || m.t === "end") closing = "close";
    if (m.t === "abort") closing = new Error(m.reason || "aborted");
    // Chromium completes a download whose body is shorter than its Content-Length (measured),
    // so the byte count is checked here too before the stream may close.
    if (closing === "close" && total !== job.size) {
      closing = new Error(`${total} bytes arrived, ${job.size} expected`);
    }
    if (wake) wake();
  };
  // The producer's side went away (its page closed): fail the download instead of leaving it
  // hanging. MessagePort's close event is recent (Chromium 122+); `watchdog` covers the rest.
  port.addEventListener("close", () => {
    closing ??= new Error("the page that was producing this download is gone");
    if (wake) wake();
  });
  // Watchdog: the producer sends something (a chunk or {t: "alive"}) at least every few
  // seconds; silence for `idleMs` means it is gone.
  const idleMs = job.idleMs || 30_000;
  const watchdog = setInterval(() => {
    if (closing !== null) return clearInterval(watchdog);
    if (performance.now() - seen > idleMs) {
      closing = new Error(`no word from the page for ${idleMs} ms`);
      clearInterval(watchdog);
      if (wake) wake();
    }
  }, 1000);
  return new ReadableStream(
    {
      start() {
        port.postMessage({ t: "credit", n: job.window || 8 });
      },
      async pull(controller) {
        while (queue.length === 0 && closing === null) {
          await new Promise((resolve) => (wake = resolve));
          wake = null;
        }
        if (closing instanceof Error) {
          // An error drops whatever is still queued: the download must not complete.
          controller.error(closing);
          port.close();
          return;
        }
        if (queue.length > 0) {
          const chunk = queue.shift();
          controller.enqueue(chunk);
          if (job.recycle) lent.push(chunk.buffer);
          if (job.recycle && lent.length > 2) {
            const buf = lent.shift();
            port.postMessage({ t: "credit", n: 1, buf }, [buf]);
          } else {
            port.postMessage({ t: "credit", n: 1 });
          }
        }
        if (queue.length === 0 && closing === "close") {
          controller.close();
          port.close();
        }
      },
      cancel(reason) {
        port.postMessage({ t: "cancel", reason: String(reason) });
        port.close();
      },
    },
    { highWaterMark: 0 },
  );
}

// Mode swfetch: this worker fetches and hashes, one chunk behind; job.port reports the outcome
// to the page ({t: "done", ok, digest, bytes, ms}).
async function fetchAndHash(job) {
  wasm ??= initWharf();
  await wasm;
  const t0 = performance.now();
  const response = await fetch(job.url, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${job.url}: ${response.status}`);
  const reader = response.body.getReader({ mode: "byob" });
  const chunk = job.chunk || 1 << 20;
  const hasher = new Sha256();
  let held = null;
  let bytes = 0;
  const report = (m) => job.port && job.port.postMessage(m);
  return new ReadableStream(
    {
      async pull(controller) {
        for (;;) {
          const { done, value } = await reader.read(new Uint8Array(new ArrayBuffer(chunk)), {
            min: chunk,
          });
          if (value && value.length > 0) {
            hasher.update(value);
            bytes += value.length;
            const previous = held;
            held = value;
            if (previous) {
              controller.enqueue(previous);
              return;
            }
          }
          if (done) break;
        }
        const digest = hasher.finish();
        hasher.free();
        const ok = digest === job.digest && bytes === job.size;
        report({ t: "done", ok, digest, bytes, ms: performance.now() - t0 });
        if (!ok) {
          controller.error(new Error(`sha256:${digest} (${bytes} bytes) is not what was asked for`));
          return;
        }
        if (held) controller.enqueue(held);
        controller.close();
      },
      cancel(reason) {
        report({ t: "done", ok: false, cancelled: String(reason) });
        return reader.cancel(reason);
      },
    },
    { highWaterMark: job.ahead ?? 2 },
  );
}

// Mode synth (bench only): `size` zero bytes made up here, no fetch, no hash: the ceiling of the
// service-worker-stream-to-download-folder path. Flag `bytes`: a byte stream instead.
async function synthetic(job) {
  let left = job.size;
  const t0 = performance.now();
  const next = () => new Uint8Array(Math.min(job.chunk, left));
  const finish = (controller) => {
    controller.close();
    if (job.port) job.port.postMessage({ t: "done", ok: true, bytes: job.size, ms: performance.now() - t0 });
  };
  return new ReadableStream(
    {
      type: job.bytes ? "bytes" : undefined,
      pull(controller) {
        if (left === 0) return finish(controller);
        const chunk = next();
        left -= chunk.length;
        controller.enqueue(chunk);
        if (left === 0) finish(controller);
      },
    },
    job.bytes ? undefined : { highWaterMark: 0 },
  );
}

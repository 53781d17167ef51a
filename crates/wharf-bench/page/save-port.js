// Save-path prototype (bench only): the producer's side of the port protocol in save-sw.js.

// Sending side of the port protocol, with credit-based flow control.
// `clone`: post a copy and keep the buffer (the caller reuses it) instead of transferring it.
// Buffers the service worker hands back with a credit (option `recycle`) land in `pool`.
export function sender(port, { clone = false, pool = null, heartbeatMs = 5000, startMs = 15_000 } = {}) {
  let credit = 0;
  let started = false;
  let cancelled = null;
  let wake = null;
  port.onmessage = (event) => {
    const m = event.data;
    if (m.t === "credit") {
      credit += m.n;
      started = true;
    }
    if (m.buf && pool) pool.push(m.buf);
    if (m.t === "cancel") cancelled = m.reason || "cancelled";
    if (wake) wake();
  };
  // Heartbeat: tells the service worker the producer is still there (see save-sw.js).
  const alive = setInterval(() => port.postMessage({ t: "alive" }), heartbeatMs);
  // The first credit comes when the service worker's stream starts; without it, the navigation
  // never reached the service worker (not active, bypassed): give up instead of waiting forever.
  const startTimer = setTimeout(() => {
    if (started) return;
    cancelled ??= "the service worker did not take the download";
    if (wake) wake();
  }, startMs);
  return {
    async send(view, final = false) {
      while (credit === 0 && cancelled === null) {
        await new Promise((resolve) => (wake = resolve));
        wake = null;
      }
      if (cancelled !== null) {
        clearInterval(alive);
        clearTimeout(startTimer);
        throw new Error(`the download was cancelled: ${cancelled}`);
      }
      if (final) clearInterval(alive);
      credit -= 1;
      const message = { t: "chunk", buf: view.buffer, off: view.byteOffset, len: view.length, final };
      if (clone) port.postMessage(message);
      else port.postMessage(message, [view.buffer]);
    },
    end() {
      clearInterval(alive);
      port.postMessage({ t: "end" });
    },
    abort(reason) {
      clearInterval(alive);
      port.postMessage({ t: "abort", reason });
    },
  };
}

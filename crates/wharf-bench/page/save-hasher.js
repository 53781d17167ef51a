// Save-path prototype (bench only), mode sw2: a worker nested in save-worker.js that hashes the
// chunks the reader sends (port `up`, same protocol as towards the service worker), holds the
// last one back, and forwards them to the save service worker (port `sw`). Answers its parent
// with {ok, digest, bytes, hashMs}.
import initWharf, { Sha256 } from "./wharf/wharf_bench_hashwasm.js";
import { sender } from "./save-port.js";

const ready = initWharf();

onmessage = async (event) => {
  const m = event.data;
  await ready;
  const out = sender(m.sw);
  const hasher = new Sha256();
  let held = null;
  let bytes = 0;
  let hashMs = 0;
  // One message at a time, in order: each is awaited before the next is taken.
  const inbox = [];
  let wake = null;
  m.up.onmessage = (e) => {
    inbox.push(e.data);
    if (wake) wake();
  };
  m.up.postMessage({ t: "credit", n: m.window || 8 });
  try {
    for (;;) {
      while (inbox.length === 0) {
        await new Promise((resolve) => (wake = resolve));
        wake = null;
      }
      const msg = inbox.shift();
      if (msg.t === "alive") continue;
      if (msg.t !== "chunk") break;
      const view = new Uint8Array(msg.buf, msg.off, msg.len);
      const s = performance.now();
      hasher.update(view);
      hashMs += performance.now() - s;
      bytes += view.length;
      if (held) await out.send(held);
      held = view;
      m.up.postMessage({ t: "credit", n: 1 });
    }
    const digest = hasher.finish();
    hasher.free();
    const ok = digest === m.digest && bytes === m.size;
    if (!ok) out.abort(`sha256:${digest} (${bytes} bytes) is not sha256:${m.digest}`);
    else if (held) await out.send(held, true);
    else out.end();
    postMessage({ ok, digest, bytes, hashMs });
  } catch (err) {
    out.abort(String(err));
    postMessage({ ok: false, error: String(err) });
  }
};

// Times SHA-256 implementations on the same bytes in a dedicated worker (where wharf hashes
// downloads): streaming in 1 MiB chunks, except WebCrypto, which can only digest a whole buffer.
import initWharf, { Sha256 as WharfSha256 } from "./wharf/wharf_bench_hashwasm.js";
import { createSHA256 } from "./hash-wasm/index.esm.min.js";

const CHUNK = 1 << 20;

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Each entry: prepare() outside the timed region (instantiation), run(data) timed.
async function implementations(wanted) {
  await initWharf();
  const all = {
    wharf: async (data) => {
      const h = new WharfSha256();
      for (let off = 0; off < data.length; off += CHUNK) {
        h.update(data.subarray(off, off + CHUNK));
      }
      const out = h.finish();
      h.free();
      return out;
    },
    "hash-wasm": null,
    webcrypto: async (data) => hex(await crypto.subtle.digest("SHA-256", data)),
  };
  const hw = await createSHA256();
  all["hash-wasm"] = async (data) => {
    hw.init();
    for (let off = 0; off < data.length; off += CHUNK) {
      hw.update(data.subarray(off, off + CHUNK));
    }
    return hw.digest("hex");
  };
  // Variants of wharf's hasher built with other settings (`wharf-<variant>/` next to this file).
  for (const variant of wanted.filter((name) => name.startsWith("wharf-"))) {
    const mod = await import(`./${variant}/wharf_bench_hashwasm.js`);
    await mod.default();
    all[variant] = async (data) => {
      const h = new mod.Sha256();
      for (let off = 0; off < data.length; off += CHUNK) {
        h.update(data.subarray(off, off + CHUNK));
      }
      const out = h.finish();
      h.free();
      return out;
    };
  }
  return all;
}

onmessage = async (event) => {
  const runs = Number(event.data.runs || 5);
  const impls = (event.data.impls || "wharf,hash-wasm,webcrypto").split(",");
  const dataUrl = "data.bin";
  try {
    const all = await implementations(impls);
    const missing = impls.filter((name) => !all[name]);
    if (missing.length > 0) throw new Error(`unknown implementations: ${missing.join(", ")}`);
    const data = new Uint8Array(await (await fetch(dataUrl)).arrayBuffer());
    const results = Object.fromEntries(impls.map((name) => [name, { ms: [], hex: [] }]));
    // Round -1 warms every implementation up (Wasm tier-up); the order rotates between rounds.
    for (let round = -1; round < runs; round++) {
      for (let k = 0; k < impls.length; k++) {
        const name = impls[(k + Math.max(round, 0)) % impls.length];
        const t0 = performance.now();
        const digest = await all[name](data);
        const ms = performance.now() - t0;
        if (round >= 0) {
          results[name].ms.push(ms);
          results[name].hex.push(digest);
        }
        postMessage({ progress: `round ${round} ${name} ${ms.toFixed(0)} ms` });
      }
    }
    postMessage({ done: true, bytes: data.length, chunk: CHUNK, results });
  } catch (err) {
    postMessage({ error: String((err && err.stack) || err) });
  }
};

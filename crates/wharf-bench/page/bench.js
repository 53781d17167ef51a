// Starts the hashing worker and exposes its answer as `window.__bench` for the WebDriver side:
// {state: "running" | "done" | "error", ...}.
const params = new URLSearchParams(location.search);
window.__bench = { state: "running", progress: "" };
const worker = new Worker("hash-worker.js", { type: "module" });
worker.onmessage = (event) => {
  const m = event.data;
  if (m.progress) {
    window.__bench.progress = m.progress;
  } else if (m.error) {
    window.__bench = { state: "error", error: m.error };
  } else if (m.done) {
    window.__bench = { state: "done", bytes: m.bytes, chunk: m.chunk, results: m.results };
  }
  document.getElementById("state").textContent = window.__bench.state;
};
worker.onerror = (event) => {
  window.__bench = { state: "error", error: event.message || "the worker did not start" };
};
worker.postMessage({
  dataUrl: "data.bin",
  runs: Number(params.get("runs") || 5),
  impls: (params.get("impls") || "wharf,hash-wasm,webcrypto").split(","),
});

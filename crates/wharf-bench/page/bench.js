// Starts a bench worker (`?worker=hash-worker.js` by default) with the page's query parameters
// and exposes its answer as `window.__bench` for the WebDriver side:
// {state: "running" | "done" | "error", progress, ...}.
const params = new URLSearchParams(location.search);
window.__bench = { state: "running", progress: "" };
const worker = new Worker(params.get("worker") || "hash-worker.js", { type: "module" });
worker.onmessage = (event) => {
  const m = event.data;
  if (m.progress) {
    window.__bench.progress = m.progress;
  } else if (m.error) {
    window.__bench = { state: "error", error: m.error };
  } else if (m.done) {
    window.__bench = { state: "done", ...m };
  }
  document.getElementById("state").textContent = window.__bench.state;
};
worker.onerror = (event) => {
  window.__bench = { state: "error", error: event.message || "the worker did not start" };
};
worker.postMessage(Object.fromEntries(params));

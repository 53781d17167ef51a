// wharf's download worker (a module worker). It runs the page's own Wasm module rather than a
// second build: the page posts `{ glue, module }` first — the URL of its wasm-bindgen JS glue
// and its compiled `WebAssembly.Module` — and this script instantiates them and hands over to
// `wharf_worker_main` (src/main.rs), which installs the real message handler and says `ready`.
// A failure here is reported as a `crashed` message (`WorkerMessage::Crashed` in JSON), which the page turns into failed jobs.
self.addEventListener(
  "message",
  async (event) => {
    try {
      const { glue, module } = event.data;
      const bindings = await import(glue);
      await bindings.default({ module_or_path: module });
      bindings.wharf_worker_main();
    } catch (err) {
      const message = `the worker could not start: ${(err && err.message) || err}`;
      self.postMessage(JSON.stringify({ crashed: { message } }));
    }
  },
  { once: true },
);

// Save-path prototypes (bench only; src/saveproto.rs drives this page over WebDriver).
// `window.__saveStart(opts)` starts one save; `window.__save` tells how it went:
//   {state: "loading" | "ready" | "running" | "done" | "error", result, marks, error}.
// opts: {mode: "opfs" | "sw" | "sw-nohash" | "sw2" | "swfetch", url, digest (hex), size, name,
//        chunk, window, contentLength, delayMs, keepAliveMs, trigger: "iframe" | "anchor"}.
const state = (window.__save = { state: "loading" });
const show = () => (document.getElementById("state").textContent = state.state);
let registration = null;
const worker = new Worker("save-worker.js", { type: "module" });
let lastUrl = null;
let seq = 0;

// The service worker's scope is only ./relay/save-proto/, so it never sees the page's own
// requests (relay fetches included). The page is not controlled, so navigator.serviceWorker.ready
// never resolves for it: wait for the registration's worker to be activated instead. The path is
// one the server answers with an error (the relay: 400): a request that bypasses the service
// worker (the user's "Resume" of a failed download, <a download>) must fail, never save the
// server's index.html under the file's name.
async function setup() {
  registration = await navigator.serviceWorker.register("save-sw.js", {
    scope: "./relay/save-proto/",
    type: "module",
  });
  const sw = registration.installing || registration.waiting || registration.active;
  if (sw.state !== "activated") {
    await new Promise((resolve) => {
      sw.addEventListener("statechange", () => sw.state === "activated" && resolve());
    });
  }
  state.state = "ready";
  show();
}

function fromWorker(id) {
  return new Promise((resolve) => {
    worker.onmessage = (event) => event.data.id === id && resolve(event.data);
  });
}

function registered(id) {
  return new Promise((resolve) => {
    const on = (event) => {
      if (event.data.t === "registered" && event.data.id === id) {
        navigator.serviceWorker.removeEventListener("message", on);
        resolve();
      }
    };
    navigator.serviceWorker.addEventListener("message", on);
  });
}

function click(href, name) {
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

function navigate(href, trigger, name) {
  if (trigger === "anchor") return click(href, name);
  const frame = document.createElement("iframe");
  frame.hidden = true;
  frame.src = href;
  document.body.append(frame);
  // Removed later: a download outlives its frame, but keep it while the stream runs.
  setTimeout(() => frame.remove(), 600_000);
}

async function run(opts) {
  const t0 = performance.now();
  const marks = {};
  const mark = (k) => (marks[k] = Math.round(performance.now() - t0));
  const id = `${Date.now().toString(36)}-${++seq}`;
  const job = { ...opts, id, chunk: opts.chunk || 1 << 20, window: opts.window || 8 };
  if (lastUrl) URL.revokeObjectURL(lastUrl);
  lastUrl = null;
  if (job.mode === "opfs") {
    job.file = "save-proto.bin";
    const done = fromWorker(id);
    worker.postMessage(job);
    const result = await done;
    mark("verified");
    if (!result.ok) return { result, marks };
    const root = await navigator.storage.getDirectory();
    const file = await (await root.getFileHandle(job.file)).getFile();
    lastUrl = URL.createObjectURL(file);
    click(lastUrl, job.name);
    mark("handed over");
    return { result, marks };
  }
  const keepAlive = job.keepAliveMs
    ? setInterval(() => registration.active.postMessage({ t: "ping" }), job.keepAliveMs)
    : null;
  try {
    const channel = new MessageChannel();
    const ack = registered(id);
    const { port, ...plain } = job;
    registration.active.postMessage({ ...plain, t: "register" }, [channel.port1]);
    await ack;
    mark("registered");
    let done;
    if (job.mode === "swfetch" || job.mode === "synth") {
      done = new Promise((resolve) => (channel.port2.onmessage = (e) => resolve(e.data)));
    } else {
      done = fromWorker(id);
      worker.postMessage({ ...job, port: channel.port2 }, [channel.port2]);
    }
    navigate(`relay/save-proto/${id}/${encodeURIComponent(job.name)}`, job.trigger, job.name);
    mark("navigated");
    const result = await done;
    mark("verified");
    return { result, marks };
  } finally {
    if (keepAlive) clearInterval(keepAlive);
  }
}

window.__saveStart = (opts) => {
  state.state = "running";
  state.result = null;
  state.error = null;
  show();
  run(opts).then(
    ({ result, marks }) => {
      Object.assign(state, { state: "done", result, marks });
      show();
    },
    (err) => {
      Object.assign(state, { state: "error", error: String((err && err.stack) || err) });
      show();
    },
  );
};

// Removes what mode opfs staged (between runs, outside the timed region).
window.__saveCleanup = async () => {
  if (lastUrl) URL.revokeObjectURL(lastUrl);
  lastUrl = null;
  const root = await navigator.storage.getDirectory();
  await root.removeEntry("save-proto.bin").catch(() => {});
};

setup().catch((err) => {
  Object.assign(state, { state: "error", error: String((err && err.stack) || err) });
  show();
});

// Bench only: how long a round trip page -> service worker -> page over a MessagePort takes with
// a transferred buffer of each size (a copy would show as time growing with the size), and
// the same to the dedicated worker (which answers {t: "echo"} the same way).
window.__echoTest = async (sizes, rounds) => {
  const out = {};
  const channel = new MessageChannel();
  registration.active.postMessage({ t: "echo" }, [channel.port1]);
  const port = channel.port2;
  const trip = (target, buf) =>
    new Promise((resolve) => {
      target.onmessage = (e) => resolve(e.data.buf);
      target.postMessage({ buf }, [buf]);
    });
  for (const size of sizes) {
    let buf = new ArrayBuffer(size);
    new Uint8Array(buf).fill(1);
    buf = await trip(port, buf);
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) buf = await trip(port, buf);
    out[`service worker port, ${size >> 10} KiB`] = (performance.now() - t0) / rounds;
  }
  window.__echo = out;
};

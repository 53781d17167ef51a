//! A second hasher on another thread: the sha256 of a whole archive, computed beside the blob
//! verification instead of after it on the same thread.
//!
//! An export hashes every blob byte twice: once to verify the blob, once for the tar's own
//! sha256. On one thread that is two SHA-256 passes in a row; here the tar's pass runs in a
//! nested worker (the same Wasm module, started by `static/worker.js` with a `hasher` port), so
//! the two run side by side on two cores.
//!
//! Bytes cross in pooled `ArrayBuffer`s that are transferred (not copied) both ways: the job
//! copies a chunk into a free buffer and posts it; the hasher copies it into its own memory,
//! hashes it and posts the buffer back. At most [`WINDOW`] buffers are out at a time, and
//! [`SideHasher::ready`] waits for one to come back: memory stays flat however far the hasher
//! falls behind. The port keeps messages in order, so `mark` / `rewind` (to cut a restarted
//! blob back out of the hash) and `finish` apply exactly where they were sent.
//!
//! Where no nested worker can be started (tests, or a browser without them), the caller hashes
//! on its own thread instead ([`spawn`] answers `None`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wharf_oci::digest::Hasher;
use wharf_oci::{Algorithm, Digest};

use crate::net::body::DEFAULT_CHUNK;
use crate::net::{js, IoError};

/// Buffers out at a time (4 MiB).
pub const WINDOW: usize = 16;
/// The size of each pooled buffer, a body chunk; longer writes are split.
const PIECE: usize = DEFAULT_CHUNK;

/// The download worker's boot script, relative to the worker (the same file as the page's).
const SCRIPT: &str = "./worker.js";

/// Starts a hasher in a nested worker, or `None` where none can start: no boot data (the
/// module was not started by `static/worker.js`), no `Worker` in workers, or a hasher that did
/// not come up.
pub async fn spawn() -> Option<SideHasher> {
    let global = js_sys::global();
    let boot = Reflect::get(&global, &JsValue::from_str("wharfBoot")).ok()?;
    if !boot.is_object() {
        return None;
    }
    let channel = web_sys::MessageChannel::new().ok()?;
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(SCRIPT, &options).ok()?;
    let message = Object::new();
    for key in ["glue", "module"] {
        let value = Reflect::get(&boot, &JsValue::from_str(key)).ok()?;
        Reflect::set(&message, &JsValue::from_str(key), &value).ok()?;
    }
    Reflect::set(&message, &JsValue::from_str("hasher"), &channel.port2()).ok()?;
    let transfer = Array::of1(&channel.port2());
    if worker
        .post_message_with_transfer(&message, &transfer)
        .is_err()
    {
        worker.terminate();
        return None;
    }
    SideHasher::connect(channel.port1(), Some(worker)).await
}

/// What the job's side hears from the hasher.
#[derive(Default)]
struct Shared {
    pool: RefCell<Vec<ArrayBuffer>>,
    out: Cell<usize>,
    started: Cell<bool>,
    digest: RefCell<Option<String>>,
    failed: RefCell<Option<String>>,
    /// Resolves the promise a waiting [`SideHasher::wait`] is on.
    wake: RefCell<Option<js_sys::Function>>,
}

impl Shared {
    fn wake(&self) {
        if let Some(resolve) = self.wake.borrow_mut().take() {
            // Calling a promise's resolve function cannot throw.
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    fn hear(&self, data: &JsValue) {
        let field = |key: &str| Reflect::get(data, &JsValue::from_str(key)).ok();
        if let Some(buffer) = field("back").and_then(|b| b.dyn_into::<ArrayBuffer>().ok()) {
            self.pool.borrow_mut().push(buffer);
            self.out.set(self.out.get().saturating_sub(1));
        } else if let Some(hex) = field("digest").and_then(|d| d.as_string()) {
            *self.digest.borrow_mut() = Some(hex);
        } else if field("started").is_some_and(|s| s.is_truthy()) {
            self.started.set(true);
        } else {
            self.fail(format!("an unknown message: {}", js::error_text(data)));
        }
        self.wake();
    }

    fn fail(&self, reason: String) {
        self.failed.borrow_mut().get_or_insert(reason);
        self.wake();
    }
}

/// The job's end of a hasher on another thread (or on a port of this one, in tests).
pub struct SideHasher {
    port: web_sys::MessagePort,
    shared: Rc<Shared>,
    worker: Option<web_sys::Worker>,
    _handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl SideHasher {
    /// Talks to a hasher served on the other end of `port` ([`serve`]), once it answers;
    /// `worker` is the thread it runs on, stopped when this is dropped. `None` when it fails
    /// to start.
    pub async fn connect(
        port: web_sys::MessagePort,
        worker: Option<web_sys::Worker>,
    ) -> Option<SideHasher> {
        let hasher = SideHasher::on_port(port, worker);
        hasher.started().await.then_some(hasher)
    }

    fn on_port(port: web_sys::MessagePort, worker: Option<web_sys::Worker>) -> SideHasher {
        let shared = Rc::new(Shared::default());
        let mut handlers = Vec::new();
        let heard = Rc::clone(&shared);
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            if let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() {
                heard.hear(&e.data());
            }
        });
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        handlers.push(on_message);
        if let Some(worker) = &worker {
            // The boot script reports a failure to its parent, not on the port.
            let heard = Rc::clone(&shared);
            let on_crash = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
                let text = match e.dyn_ref::<web_sys::MessageEvent>() {
                    Some(m) => m.data().as_string().unwrap_or_default(),
                    None => "the hashing worker stopped with an error".into(),
                };
                heard.fail(text);
            });
            worker.set_onmessage(Some(on_crash.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_crash.as_ref().unchecked_ref()));
            handlers.push(on_crash);
        }
        SideHasher {
            port,
            shared,
            worker,
            _handlers: handlers,
        }
    }

    /// Waits for the hasher's first word: whether it came up.
    async fn started(&self) -> bool {
        self.send(&JsValue::from_str("hello"), None);
        while !self.shared.started.get() {
            if self.shared.failed.borrow().is_some() || self.wait().await.is_err() {
                return false;
            }
        }
        true
    }

    /// Hashes `bytes` next (on the other side; this returns at once).
    pub fn update(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(PIECE) {
            let buffer = self
                .shared
                .pool
                .borrow_mut()
                .pop()
                .unwrap_or_else(|| ArrayBuffer::new(PIECE as u32));
            Uint8Array::new(&buffer)
                .subarray(0, piece.len() as u32)
                .copy_from(piece);
            let message = Object::new();
            let set = |k: &str, v: &JsValue| Reflect::set(&message, &JsValue::from_str(k), v);
            // Setting a field of a fresh object cannot fail.
            let _ = set("bytes", &buffer).and_then(|_| set("len", &JsValue::from(piece.len())));
            self.shared.out.set(self.shared.out.get() + 1);
            self.send(&message, Some(&buffer));
        }
    }

    /// Remembers the hash as it is now (the start of a blob).
    pub fn mark(&mut self) {
        self.send(&JsValue::from_str("mark"), None);
    }

    /// Puts back the hash remembered by the last [`mark`](SideHasher::mark).
    pub fn rewind(&mut self) {
        self.send(&JsValue::from_str("rewind"), None);
    }

    /// Buffers out now (at most [`WINDOW`] when every update waited for [`ready`](Self::ready)).
    pub fn out(&self) -> usize {
        self.shared.out.get()
    }

    /// Waits until fewer than [`WINDOW`] buffers are out.
    pub async fn ready(&mut self) -> Result<(), IoError> {
        while self.shared.out.get() >= WINDOW {
            self.wait().await?;
        }
        self.check()
    }

    /// The digest of everything hashed (and not rewound).
    pub async fn finish(self) -> Result<Digest, IoError> {
        self.send(&JsValue::from_str("finish"), None);
        loop {
            self.check()?;
            if let Some(hex) = self.shared.digest.borrow_mut().take() {
                return Digest::new(Algorithm::Sha256, &hex).map_err(|e| failed(&e.to_string()));
            }
            self.wait().await?;
        }
    }

    fn check(&self) -> Result<(), IoError> {
        match self.shared.failed.borrow().as_deref() {
            Some(reason) => Err(failed(reason)),
            None => Ok(()),
        }
    }

    fn send(&self, message: &JsValue, transfer: Option<&ArrayBuffer>) {
        let sent = match transfer {
            Some(buffer) => self
                .port
                .post_message_with_transferable(message, &Array::of1(buffer)),
            None => self.port.post_message(message),
        };
        if let Err(e) = sent {
            self.shared.fail(js::error_text(&e));
        }
    }

    /// Until the hasher next says something.
    async fn wait(&self) -> Result<(), IoError> {
        self.check()?;
        let shared = Rc::clone(&self.shared);
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            *shared.wake.borrow_mut() = Some(resolve);
        });
        wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map(drop)
            .map_err(|e| failed(&js::error_text(&e)))
    }
}

impl Drop for SideHasher {
    fn drop(&mut self) {
        self.port.set_onmessage(None);
        self.port.close();
        if let Some(worker) = &self.worker {
            worker.terminate();
        }
    }
}

fn failed(reason: &str) -> IoError {
    IoError::Browser {
        message: format!("the archive's hashing worker failed: {reason}"),
    }
}

/// The hasher's side: answers on `port` until it is closed.
pub fn serve(port: web_sys::MessagePort) {
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut mark: Option<Hasher> = None;
    let mut scratch = vec![0u8; PIECE];
    let reply = port.clone();
    let handler =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let data = e.data();
            let answer = match data.as_string().as_deref() {
                Some("hello") => field_object("started", &JsValue::TRUE),
                Some("mark") => {
                    mark = Some(hasher.clone());
                    return;
                }
                Some("rewind") => {
                    hasher = mark
                        .clone()
                        .unwrap_or_else(|| Hasher::new(Algorithm::Sha256));
                    return;
                }
                Some("finish") => {
                    let done = std::mem::replace(&mut hasher, Hasher::new(Algorithm::Sha256));
                    field_object("digest", &JsValue::from_str(done.finish().hex()))
                }
                _ => match take_bytes(&data, &mut scratch) {
                    Some((buffer, len)) => {
                        hasher.update(&scratch[..len]);
                        let back = field_object("back", &buffer);
                        let _ = reply.post_message_with_transferable(&back, &Array::of1(&buffer));
                        return;
                    }
                    None => return,
                },
            };
            // A port whose other end is gone drops what is posted to it.
            let _ = reply.post_message(&answer);
        });
    port.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the hasher's thread (one per export).
    handler.forget();
}

/// `{bytes, len}` copied into `scratch`: the buffer and the length.
fn take_bytes(data: &JsValue, scratch: &mut [u8]) -> Option<(ArrayBuffer, usize)> {
    let buffer: ArrayBuffer = Reflect::get(data, &JsValue::from_str("bytes"))
        .ok()?
        .dyn_into()
        .ok()?;
    let len = Reflect::get(data, &JsValue::from_str("len"))
        .ok()?
        .as_f64()? as usize;
    let len = len.min(scratch.len()).min(buffer.byte_length() as usize);
    Uint8Array::new(&buffer)
        .subarray(0, len as u32)
        .copy_to(&mut scratch[..len]);
    Some((buffer, len))
}

fn field_object(key: &str, value: &JsValue) -> JsValue {
    let object = Object::new();
    // Setting a field of a fresh object cannot fail.
    let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    object.into()
}

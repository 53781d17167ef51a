//! The page side: spawns the download worker, sends it commands, hands its events to a Rust
//! callback, and saves verified files.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::memory;
use super::opfs::Staging;
use super::protocol::{
    Command, DownloadEvent, JobId, StagingPath, StartDownload, StartExport, WorkerMessage,
    EXPORT_PREFIX,
};
use crate::net::{js, IoError};
use crate::unfinished::STORAGE_KEY as UNFINISHED_KEY;

/// The worker's boot script (`static/worker.js`, copied by Trunk), relative to the page. It
/// runs the page's own Wasm module: see [`spawn`].
pub const WORKER_SCRIPT: &str = "./worker.js";

type Listener = Box<dyn Fn(DownloadEvent)>;
type StagingListener = Box<dyn Fn(StagingPath)>;
type Handler = Closure<dyn FnMut(JsValue)>;

struct Inner {
    script: String,
    listener: Listener,
    worker: RefCell<Option<web_sys::Worker>>,
    ready: Cell<bool>,
    /// Commands sent before the worker said `Ready`.
    queued: RefCell<Vec<String>>,
    /// Jobs started and not yet finished (to fail them if the worker dies).
    active: RefCell<BTreeSet<JobId>>,
    handlers: RefCell<Vec<Handler>>,
    /// Hears where the worker stages (it says so when it is ready).
    on_staging: RefCell<Option<StagingListener>>,
}

/// Runs downloads in a Web Worker. Events (progress, retries, the final one) are delivered to
/// the listener given to [`DownloadManager::new`], on the page's event loop. Dropping the
/// manager stops the worker.
#[derive(Clone)]
pub struct DownloadManager {
    inner: Rc<Inner>,
}

impl PartialEq for DownloadManager {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl DownloadManager {
    /// Spawns the worker from `script` (usually [`WORKER_SCRIPT`]). Also removes staged files
    /// that earlier visits saved (see [`save_verified`]).
    pub fn new(script: &str, listener: impl Fn(DownloadEvent) + 'static) -> Result<Self, IoError> {
        let inner = Rc::new(Inner {
            script: script.to_owned(),
            listener: Box::new(listener),
            worker: RefCell::new(None),
            ready: Cell::new(false),
            queued: RefCell::new(Vec::new()),
            active: RefCell::new(BTreeSet::new()),
            handlers: RefCell::new(Vec::new()),
            on_staging: RefCell::new(None),
        });
        spawn(&inner)?;
        wasm_bindgen_futures::spawn_local(sweep_saved());
        Ok(DownloadManager { inner })
    }

    /// Calls `listener` with where the worker stages downloads, each time a worker starts.
    pub fn on_staging(&self, listener: impl Fn(StagingPath) + 'static) {
        *self.inner.on_staging.borrow_mut() = Some(Box::new(listener));
    }

    /// Starts a download; its events carry `job.id`.
    pub fn start(&self, job: StartDownload) {
        let id = job.id;
        self.inner.active.borrow_mut().insert(id);
        if let Err(error) = self.send(&Command::Start(Box::new(job))) {
            self.inner.active.borrow_mut().remove(&id);
            (self.inner.listener)(DownloadEvent::Failed { id, error });
        }
    }

    /// Starts saving an image as one archive; its events carry `job.id` (progress comes as
    /// [`DownloadEvent::Exporting`]).
    pub fn export(&self, job: StartExport) {
        let id = job.id;
        self.inner.active.borrow_mut().insert(id);
        if let Err(error) = self.send(&Command::Export(Box::new(job))) {
            self.inner.active.borrow_mut().remove(&id);
            (self.inner.listener)(DownloadEvent::Failed { id, error });
        }
    }

    /// Cancels a download; a [`DownloadEvent::Cancelled`] follows (unless it finished first).
    pub fn cancel(&self, id: JobId) {
        // A worker that is gone has nothing to cancel.
        let _ = self.send(&Command::Cancel { id });
    }

    fn send(&self, command: &Command) -> Result<(), IoError> {
        if self.inner.worker.borrow().is_none() {
            spawn(&self.inner)?;
        }
        let text = command.to_json();
        if !self.inner.ready.get() {
            self.inner.queued.borrow_mut().push(text);
            return Ok(());
        }
        post(&self.inner, &text)
    }
}

fn post(inner: &Inner, text: &str) -> Result<(), IoError> {
    match inner.worker.borrow().as_ref() {
        Some(worker) => worker
            .post_message(&JsValue::from_str(text))
            .map_err(|e| js::browser("sending to the download worker", &e)),
        None => Err(IoError::Browser {
            message: "the download worker is not running".into(),
        }),
    }
}

/// Starts the worker as a module worker and posts it the page's own module (the JS glue's URL
/// and the compiled `WebAssembly.Module`), so the page ships one Wasm file, not two.
fn spawn(inner: &Rc<Inner>) -> Result<(), IoError> {
    let boot = boot_message()?;
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(&inner.script, &options)
        .map_err(|e| js::browser("starting the download worker", &e))?;
    let weak = Rc::downgrade(inner);
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let Some(data) = event.dyn_ref::<web_sys::MessageEvent>().map(|e| e.data()) else {
            return;
        };
        // A string, or `[json, blob]`: a verified file staged in memory (see `worker`).
        let (text, blob) = match data.dyn_ref::<js_sys::Array>() {
            Some(pair) => (pair.get(0).as_string(), pair.get(1).dyn_into().ok()),
            None => (data.as_string(), None),
        };
        if let (Some(inner), Some(text)) = (weak.upgrade(), text) {
            on_message(&inner, &text, blob);
        }
    });
    let weak = Rc::downgrade(inner);
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let message = event
            .dyn_ref::<web_sys::ErrorEvent>()
            .map(|e| e.message())
            .unwrap_or_else(|| "it failed to load or stopped".into());
        if let Some(inner) = weak.upgrade() {
            worker_died(&inner, &message);
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    *inner.handlers.borrow_mut() = vec![on_message, on_error];
    inner.ready.set(false);
    worker
        .post_message(&boot)
        .map_err(|e| js::browser("starting the download worker", &e))?;
    *inner.worker.borrow_mut() = Some(worker);
    Ok(())
}

/// `{ glue, module }` for `static/worker.js`. The glue's URL is the page's `modulepreload` link,
/// which Trunk writes for the main Rust asset.
fn boot_message() -> Result<JsValue, IoError> {
    // `HtmlLinkElement::href` is the absolute URL, as `import()` in the worker needs.
    let glue = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(r#"link[rel="modulepreload"][href$=".js"]"#)
                .ok()
                .flatten()
        })
        .and_then(|link| link.dyn_into::<web_sys::HtmlLinkElement>().ok())
        .map(|link| link.href())
        .ok_or_else(|| IoError::Browser {
            message: "the page has no modulepreload link to its own code, so the download \
                      worker cannot load it"
                .into(),
        })?;
    let message = js_sys::Object::new();
    let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&message, &key.into(), value);
    set("glue", &JsValue::from_str(&glue))
        .and_then(|_| set("module", &wasm_bindgen::module()))
        .map_err(|e| js::browser("preparing the download worker", &e))?;
    Ok(message.into())
}

fn on_message(inner: &Rc<Inner>, text: &str, blob: Option<web_sys::Blob>) {
    match WorkerMessage::from_json(text) {
        Ok(WorkerMessage::Ready { staging }) => {
            if let Some(listener) = inner.on_staging.borrow().as_ref() {
                listener(staging);
            }
            inner.ready.set(true);
            let queued = std::mem::take(&mut *inner.queued.borrow_mut());
            for command in queued {
                if let Err(e) = post(inner, &command) {
                    worker_died(inner, &e.to_string());
                    return;
                }
            }
        }
        Ok(WorkerMessage::Event { event }) => {
            if let (DownloadEvent::Verified { staged_name, .. }, Some(blob)) = (&event, blob) {
                memory::hold(staged_name, blob);
            }
            if event.is_final() {
                inner.active.borrow_mut().remove(&event.id());
            }
            (inner.listener)(event);
        }
        Ok(WorkerMessage::Crashed { message }) => worker_died(inner, &message),
        Err(e) => worker_died(inner, &e.to_string()),
    }
}

/// Fails every job of a worker that stopped, and drops it (the next command starts a new one).
fn worker_died(inner: &Rc<Inner>, message: &str) {
    if let Some(worker) = inner.worker.borrow_mut().take() {
        worker.terminate();
    }
    inner.ready.set(false);
    inner.queued.borrow_mut().clear();
    let lost = std::mem::take(&mut *inner.active.borrow_mut());
    for id in lost {
        (inner.listener)(DownloadEvent::Failed {
            id,
            error: IoError::Browser {
                message: format!("the download worker stopped: {message}"),
            },
        });
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.get_mut().take() {
            worker.terminate();
        }
    }
}

/// localStorage key of staged files handed to the browser and due for removal.
const SAVED_KEY: &str = "wharf.staging.saved";

#[derive(Serialize, Deserialize)]
struct SavedEntry {
    name: String,
    remove_after_ms: u64,
}

/// How long the browser may need to copy a saved file out of the staging folder: the file must
/// stay until then (removing it breaks a download that is still being written).
fn keep_ms(size: u64) -> u64 {
    const MIN_MS: u64 = 30_000;
    const ASSUMED_BYTES_PER_MS: u64 = 20_000; // 20 MB/s, a slow disk
    MIN_MS + size / ASSUMED_BYTES_PER_MS
}

/// Hands a verified staged file to the browser as a download named `file_name`, then removes
/// it from the staging folder once the browser has had time to copy it (also on a later visit,
/// if the tab is closed first).
pub async fn save_verified(staged_name: &str, file_name: &str) -> Result<(), IoError> {
    let staging = Staging::open().await?;
    let file = staging.file(staged_name).await?;
    let size = file.size() as u64;
    let url = web_sys::Url::create_object_url_with_blob(&file)
        .map_err(|e| js::browser("creating a download link", &e))?;
    click_download(&url, file_name)?;
    let delay = keep_ms(size);
    remember_saved(staged_name, js::now_ms() + delay);
    let name = staged_name.to_owned();
    wasm_bindgen_futures::spawn_local(async move {
        js::sleep_ms(delay).await;
        let _ = web_sys::Url::revoke_object_url(&url);
        // Saved again meanwhile: the later save's timer removes it.
        if is_due(&name) && staging.remove(&name).await.is_ok() {
            forget_saved(&name);
        }
    });
    Ok(())
}

fn click_download(url: &str, file_name: &str) -> Result<(), IoError> {
    let fail = |e: JsValue| js::browser("starting the download", &e);
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| IoError::Browser {
            message: "saving needs a page (no document here)".into(),
        })?;
    let anchor: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(fail)?.unchecked_into();
    anchor.set_href(url);
    anchor.set_download(file_name);
    anchor.set_hidden(true);
    let body = document.body().ok_or_else(|| IoError::Browser {
        message: "the page has no body".into(),
    })?;
    body.append_child(&anchor).map_err(fail)?;
    anchor.click();
    anchor.remove();
    Ok(())
}

/// Removes a staged file now (e.g. the user discards a verified download without saving it).
pub async fn remove_staged(staged_name: &str) -> Result<(), IoError> {
    Staging::open().await?.remove(staged_name).await
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn saved_entries(storage: &web_sys::Storage) -> Vec<SavedEntry> {
    storage
        .get_item(SAVED_KEY)
        .ok()
        .flatten()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn store_entries(storage: &web_sys::Storage, entries: &[SavedEntry]) {
    if let Ok(text) = serde_json::to_string(entries) {
        // Storage full or disabled: the entries are only a clean-up aid.
        let _ = storage.set_item(SAVED_KEY, &text);
    }
}

fn remember_saved(name: &str, remove_after_ms: u64) {
    let Some(storage) = local_storage() else {
        return;
    };
    let mut entries = saved_entries(&storage);
    entries.retain(|e| e.name != name);
    entries.push(SavedEntry {
        name: name.to_owned(),
        remove_after_ms,
    });
    store_entries(&storage, &entries);
}

/// Whether `name`'s removal time has come (true without localStorage).
fn is_due(name: &str) -> bool {
    let Some(storage) = local_storage() else {
        return true;
    };
    let now = js::now_ms();
    saved_entries(&storage)
        .iter()
        .filter(|e| e.name == name)
        .all(|e| e.remove_after_ms <= now)
}

fn forget_saved(name: &str) {
    if let Some(storage) = local_storage() {
        let mut entries = saved_entries(&storage);
        entries.retain(|e| e.name != name);
        store_entries(&storage, &entries);
    }
}

/// Removes export files that no saved entry waits for and no unfinished export (a closed tab's,
/// offered to resume) names: what a stopped worker left mid-way, or an export started again
/// from scratch. A file another tab is writing right now is locked by its sync access handle,
/// so removing it fails and it stays.
async fn sweep_abandoned_exports() {
    let Ok(staging) = Staging::open().await else {
        return;
    };
    let Ok(names) = staging.names().await else {
        return;
    };
    let mut waiting: Vec<String> = local_storage()
        .map(|s| saved_entries(&s).into_iter().map(|e| e.name).collect())
        .unwrap_or_default();
    let unfinished = local_storage().and_then(|s| s.get_item(UNFINISHED_KEY).ok().flatten());
    let resumable = crate::unfinished::parse(unfinished.as_deref()).into_iter();
    waiting.extend(resumable.filter_map(|r| r.export.map(|e| e.staged_name)));
    for name in names {
        if name.starts_with(EXPORT_PREFIX) && !waiting.contains(&name) {
            // Best effort: a locked or vanished file is not an error here.
            let _ = staging.remove(&name).await;
        }
    }
}

/// Staged files of downloads that failed and were not tried again for this long are removed
/// when a page starts (until then, downloading the same digest resumes from them).
const STALE_MS: u64 = 7 * 24 * 3600 * 1000;

/// Removes staged files saved on earlier visits whose copy time is over, abandoned exports,
/// and stale ones.
async fn sweep_saved() {
    sweep_saved_files().await;
    sweep_abandoned_exports().await;
    if let Ok(staging) = Staging::open().await {
        // Best effort: the next page start tries again.
        let _ = staging.sweep_stale(STALE_MS).await;
    }
}

async fn sweep_saved_files() {
    let Some(storage) = local_storage() else {
        return;
    };
    let now = js::now_ms();
    let due: Vec<String> = saved_entries(&storage)
        .into_iter()
        .filter(|e| e.remove_after_ms <= now)
        .map(|e| e.name)
        .collect();
    if due.is_empty() {
        return;
    }
    let Ok(staging) = Staging::open().await else {
        return;
    };
    for name in due {
        if staging.remove(&name).await.is_ok() {
            forget_saved(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::keep_ms;

    #[test]
    fn saved_files_stay_long_enough_to_be_copied() {
        assert_eq!(keep_ms(0), 30_000);
        // 2 GiB at 20 MB/s: about 107 s more.
        assert_eq!(keep_ms(2 << 30), 30_000 + (2u64 << 30) / 20_000);
        assert!(keep_ms(u64::MAX) > keep_ms(1 << 40));
    }
}

//! The download worker's main loop (a module worker running the page's own Wasm; see `src/main.rs` and `static/worker.js`).
//!
//! Commands arrive as JSON strings; each `Start` (one blob) or `Export` (one image as an
//! archive) runs as its own task on the worker's event loop (jobs interleave between chunks);
//! `Cancel` trips the job's [`CancelToken`]. Events go back as JSON strings. A panic is reported
//! to the page before the worker dies.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wharf_oci::auth::Credentials;
use wharf_oci::{Digest, Reference};

use super::check::run_check;
use super::engine::CancelToken;
use super::export::run_export;
use super::job::run_download;
use super::memory;
use super::opfs::staging_path;
use super::protocol::{
    Command, DownloadEvent, ExportFormat, JobId, StartDownload, StartExport, WireCredentials,
    WorkerMessage,
};
use crate::net::{IoError, RegistryClient, RelayTemplate};

struct Running {
    cancel: CancelToken,
    work: Work,
}

/// What a job works on: two jobs on the same thing would fight over its staged file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Work {
    Blob(Digest),
    /// A check-only stream of a blob through the relay named (nothing staged).
    Check(Digest, String),
    /// The image manifest's digest and the archive format.
    Export(Digest, ExportFormat),
}

#[derive(Default)]
struct State {
    jobs: BTreeMap<JobId, Running>,
    /// One client per relay setting, so tokens are reused across jobs.
    clients: BTreeMap<String, Rc<RegistryClient>>,
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &WorkerMessage) {
    // Posting a string to the page cannot fail in a live worker.
    let _ = scope().post_message(&JsValue::from_str(&message.to_json()));
}

fn post_event(event: DownloadEvent) {
    post(&WorkerMessage::Event { event });
}

/// Posts a job's last event. A verified file staged in memory goes with it, as
/// `[json, blob]`, and the worker lets go of it (the page holds it now: [`memory::hold`]).
fn post_final(event: DownloadEvent) {
    let held = match &event {
        DownloadEvent::Verified { staged_name, .. } => memory::take(staged_name),
        _ => None,
    };
    let text = JsValue::from_str(&WorkerMessage::Event { event }.to_json());
    let message = match held {
        Some(blob) => js_sys::Array::of2(&text, &blob).into(),
        None => text,
    };
    // Posting to the page cannot fail in a live worker.
    let _ = scope().post_message(&message);
}

/// Installs the message handler and the panic hook, then says `Ready`.
pub fn run() {
    std::panic::set_hook(Box::new(|info| {
        post(&WorkerMessage::Crashed {
            message: info.to_string(),
        });
    }));
    let state = Rc::new(RefCell::new(State::default()));
    let handler =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match Command::from_json(&text) {
                Ok(Command::Start(job)) => start(&state, *job),
                Ok(Command::Export(job)) => start_export(&state, *job),
                Ok(Command::Cancel { id }) => {
                    if let Some(running) = state.borrow().jobs.get(&id) {
                        running.cancel.cancel();
                    }
                }
                // A page of another version, or a bug: nothing to answer to.
                Err(_) => {}
            }
        });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    handler.forget();
    wasm_bindgen_futures::spawn_local(async {
        let staging = staging_path().await;
        post(&WorkerMessage::Ready { staging });
    });
}

fn start(state: &Rc<RefCell<State>>, job: StartDownload) {
    let id = job.id;
    let work = match job.check_only {
        true => Work::Check(job.digest.clone(), job.relay.to_string()),
        false => Work::Blob(job.digest.clone()),
    };
    let access = Access {
        reference: &job.reference,
        relay: &job.relay,
        credentials: job.credentials.as_ref(),
    };
    let Some((client, cancel)) = admit(state, id, work, &access) else {
        return;
    };
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        let last = match job.check_only {
            true => run_check(&job, &client, &cancel, &mut post_event).await,
            false => run_download(&job, &client, &cancel, &mut post_event).await,
        };
        state.borrow_mut().jobs.remove(&id);
        post_final(last);
    });
}

fn start_export(state: &Rc<RefCell<State>>, job: StartExport) {
    let id = job.id;
    let Some(digest) = job.reference.digest().cloned() else {
        let error = IoError::Protocol {
            message: format!("saving {} needs the image manifest's digest", job.reference),
        };
        post_event(DownloadEvent::Failed { id, error });
        return;
    };
    let access = Access {
        reference: &job.reference,
        relay: &job.relay,
        credentials: job.credentials.as_ref(),
    };
    let Some((client, cancel)) = admit(state, id, Work::Export(digest, job.format), &access) else {
        return;
    };
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        let last = run_export(&job, &client, &cancel, &mut post_event).await;
        state.borrow_mut().jobs.remove(&id);
        post_final(last);
    });
}

/// Where a job goes and as whom.
struct Access<'a> {
    reference: &'a Reference,
    relay: &'a RelayTemplate,
    credentials: Option<&'a WireCredentials>,
}

/// Registers a job, or answers `Failed` (a repeated id, the same work already running, bad
/// credentials) and returns `None`.
fn admit(
    state: &Rc<RefCell<State>>,
    id: JobId,
    work: Work,
    access: &Access<'_>,
) -> Option<(Rc<RegistryClient>, CancelToken)> {
    let refusal = {
        let s = state.borrow();
        if s.jobs.contains_key(&id) {
            Some(IoError::Browser {
                message: format!("download {id} is already running"),
            })
        } else if s.jobs.values().any(|r| r.work == work) {
            let digest = match &work {
                Work::Blob(d) | Work::Check(d, _) | Work::Export(d, _) => d.clone(),
            };
            Some(IoError::Busy { digest })
        } else {
            None
        }
    };
    let client = match refusal {
        Some(error) => Err(error),
        None => client_for(state, access),
    };
    let client = match client {
        Ok(c) => c,
        Err(error) => {
            post_event(DownloadEvent::Failed { id, error });
            return None;
        }
    };
    let cancel = CancelToken::new();
    let running = Running {
        cancel: cancel.clone(),
        work,
    };
    state.borrow_mut().jobs.insert(id, running);
    Some((client, cancel))
}

fn client_for(
    state: &Rc<RefCell<State>>,
    access: &Access<'_>,
) -> Result<Rc<RegistryClient>, IoError> {
    let credentials = access.credentials.map(Credentials::try_from).transpose()?;
    let key = access.relay.to_string();
    let client = state
        .borrow_mut()
        .clients
        .entry(key)
        .or_insert_with(|| Rc::new(RegistryClient::new(access.relay.clone())))
        .clone();
    let registry = access.reference.registry();
    if client.credentials_for(registry) != credentials {
        client.set_credentials(registry, credentials);
    }
    Ok(client)
}

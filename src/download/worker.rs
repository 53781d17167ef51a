//! The download worker's main loop (a dedicated worker; see `src/bin/worker.rs`).
//!
//! Commands arrive as JSON strings; each `Start` runs as its own task on the worker's event
//! loop (downloads interleave between chunks); `Cancel` trips the job's [`CancelToken`]. Events go
//! back as JSON strings. A panic is reported to the page before the worker dies.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wharf_oci::auth::Credentials;
use wharf_oci::Digest;

use super::engine::CancelToken;
use super::job::run_download;
use super::protocol::{Command, DownloadEvent, JobId, StartDownload, WorkerMessage};
use crate::net::{IoError, RegistryClient};

struct Running {
    cancel: CancelToken,
    digest: Digest,
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
    post(&WorkerMessage::Ready);
}

fn start(state: &Rc<RefCell<State>>, job: StartDownload) {
    let id = job.id;
    let refusal = {
        let s = state.borrow();
        if s.jobs.contains_key(&id) {
            Some(IoError::Browser {
                message: format!("download {id} is already running"),
            })
        } else if s.jobs.values().any(|r| r.digest == job.digest) {
            Some(IoError::Busy {
                digest: job.digest.clone(),
            })
        } else {
            None
        }
    };
    if let Some(error) = refusal {
        post_event(DownloadEvent::Failed { id, error });
        return;
    }
    let client = match client_for(state, &job) {
        Ok(c) => c,
        Err(error) => {
            post_event(DownloadEvent::Failed { id, error });
            return;
        }
    };
    let cancel = CancelToken::new();
    state.borrow_mut().jobs.insert(
        id,
        Running {
            cancel: cancel.clone(),
            digest: job.digest.clone(),
        },
    );
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        let last = run_download(&job, &client, &cancel, &mut post_event).await;
        state.borrow_mut().jobs.remove(&id);
        post_event(last);
    });
}

fn client_for(
    state: &Rc<RefCell<State>>,
    job: &StartDownload,
) -> Result<Rc<RegistryClient>, IoError> {
    let credentials = job
        .credentials
        .as_ref()
        .map(Credentials::try_from)
        .transpose()?;
    let key = job.relay.to_string();
    let client = state
        .borrow_mut()
        .clients
        .entry(key)
        .or_insert_with(|| Rc::new(RegistryClient::new(job.relay.clone())))
        .clone();
    let registry = job.reference.registry();
    if client.credentials_for(registry) != credentials {
        client.set_credentials(registry, credentials);
    }
    Ok(client)
}

//! The download worker, seen from the page: start and cancel downloads, and turn the worker's
//! events into reducer actions (with a transfer rate), saving each verified file.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wharf_oci::Digest;
use yew::prelude::*;

use crate::download::{
    save_verified, DownloadEvent, DownloadManager, StartDownload, StartExport, WORKER_SCRIPT,
};
use crate::hooks::use_unfinished::{forget, remember};
use crate::net::{js, IoError};
use crate::state::{Action, LayerProgress, State};
use crate::unfinished::{Remembered, RememberedExport};

/// Rate bookkeeping per download: (time of the previous event in ms, bytes then, smoothed rate).
type Rates = Rc<RefCell<BTreeMap<u64, (u64, u64, Option<f64>)>>>;
/// The blob each running download fetches, to forget it in localStorage once it ended.
type Blobs = Rc<RefCell<BTreeMap<u64, Digest>>>;

#[derive(Clone, PartialEq)]
pub struct Downloads {
    manager: Option<DownloadManager>,
    blobs: Blobs,
    dispatch: UseReducerDispatcher<State>,
}

impl Downloads {
    pub fn start(&self, job: StartDownload) {
        // A check keeps nothing, so there is nothing to resume after a closed tab.
        if !job.check_only {
            remember(Remembered::new(
                &job.reference,
                &job.digest,
                job.size,
                &job.file_name,
            ));
            self.blobs.borrow_mut().insert(job.id, job.digest.clone());
        }
        match &self.manager {
            Some(m) => m.start(job),
            None => fail(
                &self.dispatch,
                job.id,
                &IoError::Browser {
                    message: "the download worker could not start".into(),
                },
            ),
        }
    }

    /// Starts saving an image as one archive (see `download::export`).
    pub fn export(&self, job: StartExport) {
        if let (Some(pinned), Some(staged)) = (job.reference.digest(), &job.staged_name) {
            let mut entry = Remembered::new(&job.reference, pinned, 0, &job.file_name);
            entry.export = Some(RememberedExport {
                format: job.format,
                platforms: job.platforms.clone(),
                staged_name: staged.clone(),
            });
            remember(entry);
            self.blobs.borrow_mut().insert(job.id, pinned.clone());
        }
        match &self.manager {
            Some(m) => m.export(job),
            None => fail(
                &self.dispatch,
                job.id,
                &IoError::Browser {
                    message: "the download worker could not start".into(),
                },
            ),
        }
    }

    pub fn cancel(&self, id: u64) {
        if let Some(m) = &self.manager {
            m.cancel(id);
        }
    }
}

#[hook]
pub fn use_downloads(dispatch: UseReducerDispatcher<State>) -> Downloads {
    let made = {
        let dispatch = dispatch.clone();
        use_memo((), move |_| {
            let rates: Rates = Rc::default();
            let blobs: Blobs = Rc::default();
            let ended = Rc::clone(&blobs);
            let staged = dispatch.clone();
            let manager = DownloadManager::new(WORKER_SCRIPT, move |event| {
                forget_ended(&ended, &event);
                on_event(&dispatch, &rates, event)
            })
            .ok();
            if let Some(m) = &manager {
                m.on_staging(move |path| staged.dispatch(Action::Staging(path)));
            }
            (manager, blobs)
        })
    };
    Downloads {
        manager: made.0.clone(),
        blobs: Rc::clone(&made.1),
        dispatch,
    }
}

/// A blob download that ended (verified, cancelled, or failed in a way that makes its staged
/// bytes worthless) is no longer one to offer after a closed tab.
fn forget_ended(blobs: &Blobs, event: &DownloadEvent) {
    let ended = match event {
        DownloadEvent::Verified { .. } | DownloadEvent::Cancelled { .. } => true,
        DownloadEvent::Failed { error, .. } => !error.keeps_staged_bytes(),
        _ => false,
    };
    if ended {
        if let Some(digest) = blobs.borrow_mut().remove(&event.id()) {
            forget(&digest);
        }
    }
}

fn on_event(dispatch: &UseReducerDispatcher<State>, rates: &Rates, event: DownloadEvent) {
    let id = event.id();
    let Ok(key) = u32::try_from(id) else { return };
    match event {
        DownloadEvent::Progress { bytes, .. } => {
            let rate = update_rate(rates, id, bytes);
            dispatch.dispatch(Action::Progress {
                id: key,
                bytes,
                rate,
                note: None,
            });
        }
        DownloadEvent::Exporting {
            bytes,
            total,
            layer,
            layers,
            layer_bytes,
            layer_size,
            ..
        } => {
            let rate = update_rate(rates, id, bytes);
            let layer = LayerProgress {
                layer,
                layers,
                bytes: layer_bytes,
                size: layer_size,
            };
            dispatch.dispatch(Action::ExportProgress {
                id: key,
                bytes,
                total,
                layer,
                rate,
            });
        }
        DownloadEvent::Retrying {
            attempt,
            after_ms,
            reason,
            ..
        } => {
            let note = format!(
                "{reason}; retry {attempt} in {}",
                crate::net::human_duration(after_ms)
            );
            let bytes = rates.borrow().get(&id).map_or(0, |r| r.1);
            dispatch.dispatch(Action::Progress {
                id: key,
                bytes,
                rate: None,
                note: Some(note),
            });
        }
        DownloadEvent::Verified {
            digest,
            size,
            staged_name,
            file_name,
            ..
        } => {
            rates.borrow_mut().remove(&id);
            // For an archive: the tar's own sha256 (ignored for a blob, whose digest is known).
            dispatch.dispatch(Action::ExportVerified {
                id: key,
                digest,
                size,
            });
            let dispatch = dispatch.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match save_verified(&staged_name, &file_name).await {
                    Ok(()) => dispatch.dispatch(Action::Saved { id: key }),
                    Err(e) => fail(&dispatch, id, &e),
                }
            });
        }
        DownloadEvent::Checked { .. } => {
            rates.borrow_mut().remove(&id);
            dispatch.dispatch(Action::Checked { id: key });
        }
        DownloadEvent::Failed { error, .. } => {
            rates.borrow_mut().remove(&id);
            fail(dispatch, id, &error);
        }
        DownloadEvent::Cancelled { .. } => {
            rates.borrow_mut().remove(&id);
            dispatch.dispatch(Action::Cancelled { id: key });
        }
    }
}

fn fail(dispatch: &UseReducerDispatcher<State>, id: u64, error: &IoError) {
    let Ok(id) = u32::try_from(id) else { return };
    let actual = match error {
        IoError::DigestMismatch { actual, .. } => Some(actual.clone()),
        _ => None,
    };
    dispatch.dispatch(Action::DownloadFailed {
        id,
        message: error.to_string(),
        actual,
    });
}

/// A smoothed transfer rate in bytes per second.
fn update_rate(rates: &Rates, id: u64, bytes: u64) -> Option<f64> {
    let now = js::now_ms();
    let mut rates = rates.borrow_mut();
    let entry = rates.entry(id).or_insert((now, bytes, None));
    let (then, before, rate) = *entry;
    let elapsed = now.saturating_sub(then);
    if elapsed < 250 {
        return rate;
    }
    let sample = bytes.saturating_sub(before) as f64 * 1000.0 / elapsed as f64;
    let smoothed = rate.map_or(sample, |r| 0.7 * r + 0.3 * sample);
    *entry = (now, bytes, Some(smoothed));
    Some(smoothed)
}

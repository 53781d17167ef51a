//! The page's state and its pure reducer.
//!
//! Every change of what the page shows goes through [`State::apply`] with an [`Action`]; effects
//! (fetches, the download worker, the address bar) live in `hooks/` and only dispatch actions.
//! That keeps this file testable natively, without a browser.

use std::collections::BTreeMap;
use std::rc::Rc;

use wharf_oci::{Digest, Reference};

use crate::view::{Looked, Problem};

/// Identifies one download (or archive export) in the list.
pub type DownloadId = u32;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// What the user has typed into the reference field.
    pub input: String,
    pub view: View,
    /// Downloads, newest last.
    pub downloads: BTreeMap<DownloadId, Download>,
    pub next_download: DownloadId,
    /// A message about the last failed request, shown above the view.
    pub error: Option<Rc<Problem>>,
    /// An input error (bad reference) shown under the field.
    pub input_error: Option<String>,
    /// The bottle tag the address names (`?bottle=`): its row is highlighted, nothing starts.
    pub linked_bottle: Option<String>,
    /// Downloads a closed tab left unfinished, offered to resume.
    pub unfinished: Vec<crate::unfinished::Unfinished>,
    /// The current view's digest as a second relay saw it (**Check through another relay**).
    pub relay_check: Option<crate::view::RelayCheck>,
    /// What refers to the manifest in view.
    pub referrers: Option<crate::referrers::ReferrersView>,
    /// Where the download worker stages files (it says so when it starts).
    pub staging: Option<crate::download::StagingPath>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum View {
    #[default]
    Start,
    /// Boxed: a `Reference` is large, and the other variants are pointers.
    Loading {
        reference: Box<Reference>,
    },
    Looked(Rc<Looked>),
    Tags(Rc<TagsView>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TagsView {
    pub reference: Reference,
    pub tags: Vec<String>,
    /// Whether further pages exist that were not followed (**More tags** follows them).
    pub more: bool,
    pub loading: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    pub file_name: String,
    pub digest: Digest,
    pub size: u64,
    pub status: DownloadStatus,
    /// What the user pasted as the digest they expect (compared with the verified one).
    pub expected_input: String,
    /// For a whole-image archive: what it is of and where it is. `digest` is the image
    /// manifest's digest until the tar verified, then the tar's sha256; `size` is the tar's
    /// size once the worker planned it (0 before).
    pub export: Option<ExportState>,
    /// For a check-only stream: the relay it went through (nothing is saved).
    pub through: Option<String>,
}

/// An archive export in the downloads list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportState {
    /// The image manifest's digest.
    pub manifest: Digest,
    pub layer: LayerProgress,
}

/// Which blob of an archive is being written, and how far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerProgress {
    /// 1-based; 0 before the first blob.
    pub layer: u32,
    pub layers: u32,
    pub bytes: u64,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DownloadStatus {
    Running {
        bytes: u64,
        /// Bytes per second over the recent past, when known.
        rate: Option<f64>,
        note: Option<String>,
    },
    Saved,
    /// A check-only stream verified: the relay served the bytes the digest names.
    Checked,
    Failed {
        message: String,
        actual: Option<Digest>,
    },
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Back to the start view (an address without `?ref=`, e.g. after Back): empty field, no
    /// notice. Downloads stay listed.
    Reset,
    Input(String),
    InputError(String),
    Loading(Reference),
    Looked(Rc<Looked>),
    Failed(Rc<Problem>),
    DismissError,
    /// The address names this bottle (or none).
    BottleLinked(Option<String>),
    /// Downloads a closed tab left unfinished (read when the page opens).
    Unfinished(Vec<crate::unfinished::Unfinished>),
    /// Where the download worker stages files.
    Staging(crate::download::StagingPath),
    /// One of them was resumed or discarded: no longer offered.
    UnfinishedTaken(Digest),
    /// A second relay's answer for the current view (or that it is being asked).
    RelayChecked(crate::view::RelayCheck),
    /// What refers to the manifest in view (or that it is being looked for).
    Referrers(crate::referrers::ReferrersView),
    TagsStarted(Reference),
    TagsLoaded {
        tags: Vec<String>,
        more: bool,
    },
    TagsLoadingMore,
    DownloadStarted {
        file_name: String,
        digest: Digest,
        size: u64,
        /// A check-only stream through this relay.
        through: Option<String>,
    },
    /// A check-only stream verified.
    Checked {
        id: DownloadId,
    },
    Progress {
        id: DownloadId,
        bytes: u64,
        rate: Option<f64>,
        note: Option<String>,
    },
    Saved {
        id: DownloadId,
    },
    DownloadFailed {
        id: DownloadId,
        message: String,
        actual: Option<Digest>,
    },
    Cancelled {
        id: DownloadId,
    },
    ExpectedDigest {
        id: DownloadId,
        text: String,
    },
    ClearFinished,
    /// Saving the image whose manifest is `manifest` as one archive began.
    ExportStarted {
        file_name: String,
        manifest: Digest,
    },
    ExportProgress {
        id: DownloadId,
        /// Bytes of the tar written so far, of `total`.
        bytes: u64,
        total: u64,
        layer: LayerProgress,
        rate: Option<f64>,
    },
    /// Every blob verified: the tar's sha256 and size (saving follows).
    ExportVerified {
        id: DownloadId,
        digest: Digest,
        size: u64,
    },
}

impl State {
    /// Whether a second relay served another digest for the current view: then nothing saves.
    pub fn relays_disagree(&self) -> bool {
        self.relay_check
            .as_ref()
            .is_some_and(crate::view::RelayCheck::disagrees)
    }

    /// The id the next `DownloadStarted` will get.
    /// The unfinished download (a closed tab's) of this digest, if listed.
    pub fn unfinished_download(&self, digest: &Digest) -> Option<crate::unfinished::Remembered> {
        let found = self
            .unfinished
            .iter()
            .find(|u| &u.download.digest == digest);
        found.map(|u| u.download.clone())
    }

    pub fn upcoming_download(&self) -> DownloadId {
        self.next_download
    }

    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Reset => {
                self.input.clear();
                self.referrers = None;
                self.linked_bottle = None;
                self.input_error = None;
                self.error = None;
                self.view = View::Start;
            }
            Action::Input(text) => {
                self.input = text;
                self.input_error = None;
            }
            Action::InputError(message) => self.input_error = Some(message),
            Action::Loading(reference) => {
                self.relay_check = None;
                self.referrers = None;
                self.input = reference.to_string();
                self.input_error = None;
                self.error = None;
                self.view = View::Loading {
                    reference: Box::new(reference),
                };
            }
            Action::Looked(looked) => {
                self.error = None;
                self.relay_check = None;
                self.view = View::Looked(looked);
            }
            Action::Referrers(found) => {
                // Only for the view it was asked for.
                if matches!(&self.view, View::Looked(l) if l.subject() == &found.subject) {
                    self.referrers = Some(found);
                }
            }
            Action::RelayChecked(check) => {
                // Only for the view it was asked for.
                if matches!(&self.view, View::Looked(l) if l.digest == check.ours) {
                    self.relay_check = Some(check);
                }
            }
            Action::Failed(error) => {
                if matches!(self.view, View::Loading { .. }) {
                    self.view = View::Start;
                }
                if let View::Tags(tags) = &mut self.view {
                    Rc::make_mut(tags).loading = false;
                }
                self.error = Some(error);
            }
            Action::DismissError => self.error = None,
            Action::BottleLinked(tag) => self.linked_bottle = tag,
            Action::Unfinished(list) => self.unfinished = list,
            Action::Staging(path) => self.staging = Some(path),
            Action::UnfinishedTaken(digest) => {
                self.unfinished.retain(|u| u.download.digest != digest);
            }
            other => self = self.apply_tags(other),
        }
        self
    }

    fn apply_tags(mut self, action: Action) -> Self {
        match action {
            Action::TagsStarted(reference) => {
                self.error = None;
                self.view = View::Tags(Rc::new(TagsView {
                    reference,
                    tags: Vec::new(),
                    more: false,
                    loading: true,
                }));
            }
            Action::TagsLoaded { tags, more } => {
                if let View::Tags(view) = &mut self.view {
                    let view = Rc::make_mut(view);
                    view.tags.extend(tags);
                    view.more = more;
                    view.loading = false;
                }
            }
            Action::TagsLoadingMore => {
                if let View::Tags(view) = &mut self.view {
                    let view = Rc::make_mut(view);
                    view.loading = true;
                    view.more = false;
                }
            }
            other => self = self.apply_download(other),
        }
        self
    }

    fn apply_download(mut self, action: Action) -> Self {
        match action {
            Action::DownloadStarted {
                file_name,
                digest,
                size,
                through,
            } => {
                if through.is_none() {
                    self.unfinished.retain(|u| u.download.digest != digest);
                }
                let id = self.next_download;
                self.next_download += 1;
                let status = DownloadStatus::Running {
                    bytes: 0,
                    rate: None,
                    note: None,
                };
                let expected_input = String::new();
                let download = Download {
                    file_name,
                    digest,
                    size,
                    status,
                    expected_input,
                    export: None,
                    through,
                };
                self.downloads.insert(id, download);
            }
            Action::Progress {
                id,
                bytes,
                rate,
                note,
            } => {
                self.update(id, |d| {
                    d.status = DownloadStatus::Running { bytes, rate, note }
                });
            }
            Action::Saved { id } => self.update(id, |d| d.status = DownloadStatus::Saved),
            Action::Checked { id } => self.update(id, |d| d.status = DownloadStatus::Checked),
            Action::DownloadFailed {
                id,
                message,
                actual,
            } => {
                self.update(id, |d| {
                    d.status = DownloadStatus::Failed { message, actual }
                });
            }
            Action::Cancelled { id } => self.update(id, |d| d.status = DownloadStatus::Cancelled),
            Action::ExpectedDigest { id, text } => self.update(id, |d| d.expected_input = text),
            Action::ClearFinished => self
                .downloads
                .retain(|_, d| matches!(d.status, DownloadStatus::Running { .. })),
            other => self = self.apply_export(other),
        }
        self
    }

    fn apply_export(mut self, action: Action) -> Self {
        match action {
            Action::ExportStarted {
                file_name,
                manifest,
            } => {
                let id = self.next_download;
                self.next_download += 1;
                let download = Download {
                    file_name,
                    digest: manifest.clone(),
                    size: 0,
                    status: DownloadStatus::Running {
                        bytes: 0,
                        rate: None,
                        note: None,
                    },
                    expected_input: String::new(),
                    export: Some(ExportState {
                        manifest,
                        layer: LayerProgress::default(),
                    }),
                    through: None,
                };
                self.downloads.insert(id, download);
            }
            Action::ExportProgress {
                id,
                bytes,
                total,
                layer,
                rate,
            } => self.update(id, |d| {
                if let Some(export) = &mut d.export {
                    export.layer = layer;
                    d.size = total;
                    d.status = DownloadStatus::Running {
                        bytes,
                        rate,
                        note: None,
                    };
                }
            }),
            Action::ExportVerified { id, digest, size } => self.update(id, |d| {
                if d.export.is_some() {
                    d.digest = digest;
                    d.size = size;
                }
            }),
            _ => {}
        }
        self
    }

    fn update(&mut self, id: DownloadId, f: impl FnOnce(&mut Download)) {
        if let Some(download) = self.downloads.get_mut(&id) {
            // A late progress event must not turn a finished download back into a running one.
            let finished = !matches!(download.status, DownloadStatus::Running { .. });
            let before = download.status.clone();
            f(download);
            if finished && matches!(download.status, DownloadStatus::Running { .. }) {
                download.status = before;
            }
        }
    }

    /// Whether a download of this digest is running now (a second click does not start another).
    pub fn is_downloading(&self, digest: &Digest) -> bool {
        self.downloads.values().any(|d| {
            d.export.is_none()
                && d.through.is_none()
                && &d.digest == digest
                && matches!(d.status, DownloadStatus::Running { .. })
        })
    }

    /// Whether an archive of the image whose manifest is `manifest` is being saved now.
    pub fn is_exporting(&self, manifest: &Digest) -> bool {
        self.downloads.values().any(|d| {
            d.export.as_ref().is_some_and(|e| &e.manifest == manifest)
                && matches!(d.status, DownloadStatus::Running { .. })
        })
    }
}

impl Download {
    /// The comparison with the digest the user pasted, once the file verified.
    pub fn expected_check(&self) -> ExpectedCheck {
        let text = self.expected_input.trim();
        if text.is_empty() || self.status != DownloadStatus::Saved {
            return ExpectedCheck::Nothing;
        }
        let text = text.to_ascii_lowercase();
        let candidate = if text.contains(':') {
            text
        } else {
            format!("sha256:{text}")
        };
        match candidate.parse::<Digest>() {
            Ok(d) if d == self.digest => ExpectedCheck::Matches,
            Ok(_) => ExpectedCheck::Differs,
            Err(e) => ExpectedCheck::Invalid(e.to_string()),
        }
    }

    /// The line `sha256sum -c` accepts: `<hex>  <file name>`.
    pub fn sha256sum_line(&self) -> String {
        format!("{}  {}", self.digest.hex(), self.file_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedCheck {
    Nothing,
    Matches,
    Differs,
    Invalid(String),
}

impl yew::Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

#[cfg(test)]
mod tests;

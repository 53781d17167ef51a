//! Downloads that were running when the tab went away: remembered in localStorage while they
//! run, listed when the page opens again (with how much is staged), resumed or discarded.

use wharf_oci::Digest;
use yew::prelude::*;

use crate::download::{remove_staged, Staging};
use crate::state::{Action, State};
use crate::unfinished::{self, Remembered, Unfinished};

use crate::unfinished::STORAGE_KEY;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load() -> Vec<Remembered> {
    let text = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    unfinished::parse(text.as_deref())
}

fn store(list: &[Remembered]) {
    if let Some(storage) = storage() {
        // A full or disabled storage only costs the offer to resume after a closed tab.
        let _ = storage.set_item(STORAGE_KEY, &unfinished::to_text(list));
    }
}

/// Remembers a download that starts.
pub fn remember(entry: Remembered) {
    store(&unfinished::with(load(), entry));
}

/// Forgets a download that ended (saved, cancelled, or failed for good).
pub fn forget(digest: &Digest) {
    store(&unfinished::without(load(), digest));
}

/// Removes what is staged of an unfinished download, and the download from the list.
pub async fn discard(download: &Remembered) {
    let _ = remove_staged(&download.staged_name()).await;
    forget(&download.digest);
}

/// Once, when the page opens: the remembered downloads that still have staged bytes
/// (`Action::Unfinished`); those with nothing staged are forgotten.
#[hook]
pub fn use_unfinished(dispatch: UseReducerDispatcher<State>) {
    use_effect_with((), move |_| {
        wasm_bindgen_futures::spawn_local(async move {
            let remembered = load();
            if remembered.is_empty() {
                return;
            }
            let Ok(staging) = Staging::open().await else {
                return;
            };
            let mut found = Vec::new();
            for download in remembered {
                match staging.file(&download.staged_name()).await {
                    Ok(file) if file.size() > 0.0 => found.push(Unfinished {
                        staged: file.size() as u64,
                        download,
                    }),
                    _ => forget(&download.digest),
                }
            }
            if !found.is_empty() {
                dispatch.dispatch(Action::Unfinished(found));
            }
        });
    });
}

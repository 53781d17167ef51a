//! Looking things up in registries from the page: references, indexes, tags. Each request
//! dispatches `Loading`, then `Looked` or `Failed`; an answer to an older request than the
//! newest is dropped, so a slow answer never replaces a newer view.

use std::cell::Cell;
use std::rc::Rc;

use wharf_oci::Reference;
use yew::prelude::*;

use crate::hooks::use_url_state::{self, UrlState};
use crate::lookup::{lookup, Choice};
use crate::net::{IoError, RegistryClient, RelayTemplate};
use crate::state::Action;
use crate::state::State;
use crate::view::{Problem, TagPage};

/// Tags asked for per page.
const TAG_PAGE: u32 = 100;
/// Pages followed at most (a runaway `Link` chain stops here).
const MAX_TAG_PAGES: usize = 1000;

#[derive(Clone)]
pub struct Registry {
    pub client: Rc<RegistryClient>,
    dispatch: UseReducerDispatcher<State>,
    generation: Rc<Cell<u64>>,
}

impl PartialEq for Registry {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.client, &other.client)
    }
}

#[hook]
pub fn use_registry(dispatch: UseReducerDispatcher<State>, relay: RelayTemplate) -> Registry {
    let client = use_memo((), |_| RegistryClient::new(RelayTemplate::default()));
    client.set_relay(relay);
    let generation = use_memo((), |_| Cell::new(0u64));
    Registry {
        client,
        dispatch,
        generation,
    }
}

/// Parses what the user typed; a bad reference is an input error, shown under the field.
pub fn parse_reference(text: &str, dispatch: &UseReducerDispatcher<State>) -> Option<Reference> {
    match text.trim().parse::<Reference>() {
        Ok(r) => Some(r),
        Err(e) => {
            dispatch.dispatch(Action::InputError(e.to_string()));
            None
        }
    }
}

impl Registry {
    fn next_generation(&self) -> u64 {
        let g = self.generation.get() + 1;
        self.generation.set(g);
        g
    }

    fn failed(&self, e: &IoError) {
        self.dispatch
            .dispatch(Action::Failed(Rc::new(Problem::from(e))));
    }

    /// Looks up `url` (a reference and an optional platform); `push` records it in history.
    pub fn open(&self, url: UrlState, push: bool) {
        let Some(text) = url.reference.clone() else {
            // No reference in the address (the start page, or Back to it): show the start view,
            // and drop the answer of any lookup still running.
            self.next_generation();
            self.dispatch.dispatch(Action::Reset);
            return;
        };
        let Some(reference) = parse_reference(&text, &self.dispatch) else {
            return;
        };
        if push {
            use_url_state::push(&url);
        }
        if url.tags {
            return self.tags(reference);
        }
        let platform = match url.platform.as_deref().map(str::parse).transpose() {
            Ok(p) => p,
            Err(e) => return self.failed(&IoError::from(e)),
        };
        let generation = self.next_generation();
        self.dispatch.dispatch(Action::Loading(reference.clone()));
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = lookup(&this.client, &reference, &Choice { platform }).await;
            if this.generation.get() != generation {
                return;
            }
            match result {
                Ok(looked) => this.dispatch.dispatch(Action::Looked(Rc::new(looked))),
                Err(e) => this.failed(&e),
            }
        });
    }

    /// Lists every tag of the reference's repository, page after page.
    fn tags(&self, reference: Reference) {
        let generation = self.next_generation();
        self.dispatch
            .dispatch(Action::TagsStarted(reference.clone()));
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut page = this.client.tags(&reference, Some(TAG_PAGE)).await;
            for _ in 0..MAX_TAG_PAGES {
                if this.generation.get() != generation {
                    return;
                }
                let current = match page {
                    Ok(p) => p,
                    Err(e) => return this.failed(&e),
                };
                let more = current.next.as_ref().map(|_| TagPage {
                    last: String::new(),
                });
                let tags = current
                    .list
                    .tags
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect();
                this.dispatch.dispatch(Action::TagsLoaded { tags, more });
                let Some(cursor) = current.next else { return };
                this.dispatch.dispatch(Action::TagsLoadingMore);
                page = this.client.next_tags(&reference, &cursor).await;
            }
        });
    }
}

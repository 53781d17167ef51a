//! Looking things up in registries from the page: references, indexes, tags. Each request
//! dispatches `Loading`, then `Looked` or `Failed`; an answer to an older request than the
//! newest is dropped, so a slow answer never replaces a newer view.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wharf_oci::{Digest, Reference};
use yew::prelude::*;

use crate::hooks::use_url_state::{self, UrlState};
use crate::lookup::{lookup, Choice};
use crate::net::{IoError, RegistryClient, RelayTemplate, TagCursor, TagPage};
use crate::referrers::{Found, ReferrersView};
use crate::state::Action;
use crate::state::State;
use crate::view::{CheckOutcome, Problem};

/// Tags asked for per page.
const TAG_PAGE: u32 = 100;
/// Pages followed in a row: the first ones on their own, then as many again per **More tags**
/// (so a runaway `Link` chain costs a click per 500 tags, not the tab).
const TAG_PAGES_IN_A_ROW: usize = 5;

#[derive(Clone)]
pub struct Registry {
    pub client: Rc<RegistryClient>,
    dispatch: UseReducerDispatcher<State>,
    generation: Rc<Cell<u64>>,
    /// Where **More tags** goes on: the repository and the next page's request.
    tag_cursor: Rc<RefCell<Option<(Reference, TagCursor)>>>,
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
    let tag_cursor = use_memo((), |_| RefCell::new(None));
    Registry {
        client,
        dispatch,
        generation,
        tag_cursor,
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
        self.dispatch
            .dispatch(Action::BottleLinked(url.bottle.clone()));
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
                Ok(looked) => {
                    let subject = looked.subject().clone();
                    this.dispatch.dispatch(Action::Looked(Rc::new(looked)));
                    this.find_referrers(&reference, subject, generation).await;
                }
                Err(e) => this.failed(&e),
            }
        });
    }

    /// Lists what refers to the manifest in view, once it is shown (`Action::Referrers`).
    async fn find_referrers(&self, reference: &Reference, subject: Digest, generation: u64) {
        let looking = ReferrersView {
            subject: subject.clone(),
            found: Found::Looking,
        };
        self.dispatch.dispatch(Action::Referrers(looking));
        let found = crate::referrers::find(&self.client, reference, &subject).await;
        if self.generation.get() == generation {
            let view = ReferrersView { subject, found };
            self.dispatch.dispatch(Action::Referrers(view));
        }
    }

    /// Asks `relay` for `looked`'s reference again and reports whether it serves the same
    /// digest (`Action::RelayChecked`). The page's credentials for that registry go along.
    pub fn check_through(&self, relay: RelayTemplate, looked: &crate::view::Looked) {
        let (reference, ours) = (looked.reference.clone(), looked.digest.clone());
        let (shown, expected) = (relay.to_string(), ours.clone());
        let check = move |outcome| crate::view::RelayCheck {
            relay: shown.clone(),
            ours: expected.clone(),
            outcome,
        };
        self.dispatch
            .dispatch(Action::RelayChecked(check(CheckOutcome::Checking)));
        let other = RegistryClient::new(relay.clone());
        let registry = reference.registry().to_owned();
        other.set_credentials(&registry, self.client.credentials_for(&registry));
        let dispatch = self.dispatch.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = match other.manifest(&reference).await {
                Ok(fetched) if fetched.digest == ours => CheckOutcome::Agree,
                Ok(fetched) => CheckOutcome::Disagree {
                    theirs: fetched.digest,
                },
                Err(IoError::DigestMismatch { actual, .. }) => {
                    CheckOutcome::Disagree { theirs: actual }
                }
                Err(e) => CheckOutcome::Failed {
                    message: e.to_string(),
                },
            };
            dispatch.dispatch(Action::RelayChecked(check(outcome)));
        });
    }

    /// Lists the tags of the reference's repository, page after page, up to
    /// [`TAG_PAGES_IN_A_ROW`] pages; [`Registry::more_tags`] goes on from there.
    fn tags(&self, reference: Reference) {
        let generation = self.next_generation();
        self.tag_cursor.borrow_mut().take();
        self.dispatch
            .dispatch(Action::TagsStarted(reference.clone()));
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let first = this.client.tags(&reference, Some(TAG_PAGE)).await;
            this.follow_tags(reference, first, generation).await;
        });
    }

    /// The next pages of the tags shown (the **More tags** button).
    pub fn more_tags(&self) {
        let Some((reference, cursor)) = self.tag_cursor.borrow_mut().take() else {
            return;
        };
        let generation = self.generation.get();
        self.dispatch.dispatch(Action::TagsLoadingMore);
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let page = this.client.next_tags(&reference, &cursor).await;
            this.follow_tags(reference, page, generation).await;
        });
    }

    async fn follow_tags(
        &self,
        reference: Reference,
        mut page: Result<TagPage, IoError>,
        generation: u64,
    ) {
        for followed in 1..=TAG_PAGES_IN_A_ROW {
            if self.generation.get() != generation {
                return;
            }
            let current = match page {
                Ok(p) => p,
                Err(e) => return self.failed(&e),
            };
            let tags = current
                .list
                .tags
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect();
            let pause = followed == TAG_PAGES_IN_A_ROW && current.next.is_some();
            self.dispatch
                .dispatch(Action::TagsLoaded { tags, more: pause });
            let Some(cursor) = current.next else { return };
            if pause {
                *self.tag_cursor.borrow_mut() = Some((reference, cursor));
                return;
            }
            self.dispatch.dispatch(Action::TagsLoadingMore);
            page = self.client.next_tags(&reference, &cursor).await;
        }
    }
}

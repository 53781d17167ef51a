//! Browser IO for the registry protocol: `fetch` through the relay, in the page or a worker.
//!
//! - [`RelayTemplate`]: the relay setting (pure).
//! - [`RegistryClient`]: ping, auth flow with token cache, manifests, tags, blobs.
//! - [`IoError`]: the app's one IO error enum, with messages for people.
//! - [`body`]: flat-memory body reading (BYOB into one reused buffer).

pub mod body;
pub mod classify;
mod client;
mod error;
pub mod js;

pub use client::{ReferrersSource, RegistryClient, TagCursor, TagPage};
pub use error::{human_duration, IoError};
pub use wharf_oci::relay::{Placeholder, RelayTemplate, DIRECT};

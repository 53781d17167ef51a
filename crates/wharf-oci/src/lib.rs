//! The sans-IO core of wharf.
//!
//! Everything about the registry protocol and the file formats that does not need a network:
//! references, digests and streaming verification, `WWW-Authenticate` and tokens, manifests of
//! every media type, platforms and Homebrew bottles, tag lists, and request descriptions that a
//! driver (the browser app, or the native test kit) executes.
//!
//! Invariants: this crate performs no IO, reads no clock (time is a parameter), and depends on no
//! async runtime or browser binding. It builds for the host and for `wasm32-unknown-unknown`.

pub mod archive;
pub mod auth;
pub mod bottle;
pub mod digest;
pub mod error;
pub mod manifest;
pub mod platform;
pub mod reference;
pub mod referrers;
pub mod relay;
pub mod request;
pub mod tags;

pub use bottle::{Bottle, BottleIndex, BottleOs, Cpu, MacOs};
pub use digest::{Algorithm, Digest, Verified, Verifier};
pub use error::{Error, Result};
pub use manifest::{
    Descriptor, Expected, Fetched, ImageConfig, ImageManifest, Index, Manifest, MediaKind, Schema1,
};
pub use platform::{Entry, EntryKind, Platform};
pub use reference::{Reference, Tag};
pub use request::Request;

//! wharf's test kit: real components on free loopback ports, for integration tests.
//!
//! - [`Registry`]: CNCF distribution (Debian `docker-registry` 2.8.2) in four [`Mode`]s, in a
//!   temp dir, killed and reaped on drop (also when a test panics).
//! - [`TokenServer`]: the token mode's ES256/x5c token server, with users and rights.
//! - [`CdnServer`]: the redirect mode's blob file server; refuses `Authorization` with 400.
//! - [`Redirector`]: configurable 3xx answers for redirect-matrix tests.
//! - Seeding (methods of [`Registry`]): blobs (also streamed, up to GiBs), manifests, images
//!   with many layers, multi-platform indexes, Homebrew bottle indexes, Docker schema 1, and
//!   umoci-built images pushed with skopeo.
//! - [`Front`]: a fault-injecting front (429 + `Retry-After`, blob bodies cut short).
//! - [`WorkerdRelay`]: the relay as a Worker on workerd (the relay's second driver).
//! - [`Client`]: a native client that executes `wharf_oci` requests, directly or via a relay.
//!
//! The in-process servers (token, CDN, redirector, front) are tasks on the caller's tokio
//! runtime: tests must not block that runtime (use async APIs, `tokio::process`) while they
//! need those servers to answer. Everything is torn down when its handle is dropped.

pub mod bottles;
pub mod cdn;
pub mod chaos;
pub mod client;
pub mod cors;
pub mod error;
pub mod firefox;
pub mod front;
pub mod images;
pub mod pages;
pub mod process;
pub mod redirector;
pub mod referrers;
pub mod registry;
pub mod relay;
pub mod schema1;
pub mod seed;
pub mod seen;
pub mod tarball;
pub mod token;
mod umoci;
pub mod users;
pub mod workerd;

pub use bottles::{SeededBottle, SeededBottles, DEFAULT_BOTTLE_TAGS};
pub use cdn::CdnServer;
pub use chaos::Fault;
pub use client::{Client, Hop};
pub use error::{Error, Result};
pub use front::Front;
pub use images::{Flavor, SeedPlatform, SeededImage, SeededIndex};
pub use redirector::{Redirector, Route};
pub use referrers::{ReferrerSpec, SeededReferrer};
pub use registry::{Mode, Registry, RegistryBuilder};
pub use relay::RunningRelay;
pub use schema1::SeededSchema1;
pub use seed::{Pattern, SeededBlob, SeededManifest};
pub use seen::SeenRequest;
pub use token::{Access, TokenConfig, TokenGrant, TokenServer};
pub use users::{Credentials, Secret, User};
pub use workerd::WorkerdRelay;

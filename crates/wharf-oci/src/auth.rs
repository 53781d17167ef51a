//! Registry authentication, sans IO.
//!
//! The flow a driver runs (it executes requests; this module decides what they are):
//! 1. A registry request answers 401 with `WWW-Authenticate` values. [`next_action`] parses them
//!    ([`Challenge::parse_all`]) and, given the user's optional [`Credentials`] and the wanted
//!    [`Scope`]s (e.g. [`Scope::pull`]), says what to do next ([`NextAction`]).
//! 2. For a Bearer challenge that is a token request ([`token_request`]): `GET realm?service=..
//!    &scope=repository:<name>:pull`, with `Authorization: Basic` when credentials are given. Its
//!    JSON answer decodes with [`TokenResponse::parse`].
//! 3. The token goes into a [`TokenCache`] keyed by registry host and scope set; time is always a
//!    parameter ([`Timestamp`]), this crate reads no clock.
//! 4. The real request is retried with [`bearer_authorization`] (or, for registries in htpasswd
//!    mode that answer `Basic`, with [`basic_authorization`] on every request).
//!
//! Secrets (passwords, tokens) live in [`Secret`], whose `Debug`/`Display` print `***`, and every
//! `Authorization` value built here is marked sensitive so `http`'s `Debug` hides it too.

pub mod cache;
pub mod challenge;
pub mod credentials;
pub mod flow;
pub mod scope;
pub mod token;

pub use cache::TokenCache;
pub use challenge::Challenge;
pub use credentials::{basic_authorization, bearer_authorization, Credentials, Secret};
pub use flow::{next_action, AuthScheme, NextAction};
pub use scope::Scope;
pub use token::{token_request, ScopeStyle, Timestamp, TokenResponse};

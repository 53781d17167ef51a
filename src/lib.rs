//! The wharf page: a Yew app (`main.rs`) and its download worker, which runs the same module (`main.rs`, `static/worker.js`).
//!
//! Only this crate touches the DOM and the browser's `fetch`; the protocol itself lives in
//! `wharf-oci`.

pub mod app;
pub mod components;
pub mod download;
pub mod hooks;
pub mod lookup;
pub mod net;
pub mod panic_hook;
pub mod problem;
pub mod referrers;
pub mod state;
pub mod unfinished;
pub mod view;

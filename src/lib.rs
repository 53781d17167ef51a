//! The wharf page: a Yew app (`main.rs`) and its download worker (`bin/worker.rs`).
//!
//! Only this crate touches the DOM and the browser's `fetch`; the protocol itself lives in
//! `wharf-oci`.

pub mod download;
pub mod net;
pub mod components;
pub mod state;
pub mod view;
pub mod hooks;
pub mod panic_hook;
pub mod lookup;
pub mod problem;
pub mod app;

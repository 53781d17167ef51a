//! Effects: each `use_*` hook wraps one kind of browser IO and dispatches plain values.

pub mod use_countdown;
pub mod use_downloads;
pub mod use_registry;
pub mod use_relay_setting;
pub mod use_unfinished;
pub mod use_url_state;

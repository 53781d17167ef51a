//! The page's entry point, and the download worker's: both run this one Wasm module.

use wasm_bindgen::prelude::*;

/// Runs when the module is instantiated: in the page it renders the app; in the download worker
/// (no `window`) it does nothing and `static/worker.js` calls [`wharf_worker_main`] instead.
fn main() {
    if web_sys::window().is_none() {
        return;
    }
    wharf::panic_hook::install();
    yew::Renderer::<wharf::app::App>::new().render();
}

/// The download worker's entry point (see `static/worker.js` and `wharf::download::worker`).
#[wasm_bindgen]
pub fn wharf_worker_main() {
    #[cfg(target_arch = "wasm32")]
    wharf::download::worker::run();
}

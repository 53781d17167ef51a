//! Entry point of the download worker (built by Trunk with `data-type="worker"`).
//!
//! The page starts it with `new Worker("./worker_loader.js")`; see `wharf::download::worker`.

fn main() {
    #[cfg(target_arch = "wasm32")]
    wharf::download::worker::run();
}

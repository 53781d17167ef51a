//! wharf's CORS relay as a Cloudflare Worker: the routes of `wharf-relay` (`/relay/<url>` for
//! `GET`/`HEAD`, its `OPTIONS` preflight, `/healthz`, refusals as JSON) on the rules of
//! `wharf-relay-rules`. The Worker follows redirects itself (`redirect: manual`) so that
//! credentials never reach another origin, and passes bodies on as streams (a Worker has 128 MB).
//!
//! What the binary does that a Worker leaves to the platform: DNS answers are not checked here (on
//! Cloudflare, `fetch` reaches only public addresses; on workerd, the network service's `allow`
//! list decides, which `cargo xtask worker` writes from `--allow-host`), and per-client limits are
//! Cloudflare's rate-limiting rules (an isolate's memory is not shared between locations).

pub mod settings;

#[cfg(not(target_arch = "wasm32"))]
pub mod launch;

#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod forward;

//! `wharf-relay-rules`: everything the relay decides, as pure functions and types, shared by its two
//! drivers (the axum binary `wharf-relay` and the Cloudflare Worker): which upstream URLs may be
//! fetched (`policy`, `ipclass`), which headers go out and come back and when credentials are dropped
//! (`headers`), one request through its redirect hops (`chain`), CORS answers (`cors`), the target URL and redirect hops (`target`), per-client limits
//! (`limits`), and every refusal as a status and JSON body (`error`).
//!
//! No IO, no clock (time is a parameter), no async runtime, no HTTP server or client.

pub mod chain;
pub mod cors;
pub mod error;
pub mod headers;
pub mod ipclass;
pub mod limits;
pub mod policy;
pub mod target;

pub use chain::{Chain, Followed, Outgoing, Step};
pub use cors::{AllowOrigin, Decision};
pub use error::{Answer, RelayError};
pub use policy::{AllowHost, Hop, Policy};

//! The built page: files from `--dist`, `index.html` for any other path (the page routes itself, e.g.
//! `/?ref=...`), and `config.json` only if the file exists (never the index in its place).

use crate::error;
use axum::Router;
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};
use wharf_relay_rules::RelayError;

/// Routes for the page; without a dist folder every page path answers 404 JSON.
pub fn router<S>(dist: Option<&Path>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    match dist {
        Some(dir) => {
            let index = ServeFile::new(dir.join("index.html"));
            Router::new()
                .route_service("/config.json", ServeFile::new(dir.join("config.json")))
                .fallback_service(ServeDir::new(dir).fallback(index))
        }
        None => Router::new().fallback(|| async { error::response(&RelayError::NotFound) }),
    }
}

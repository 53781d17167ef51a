//! `wharf-relay`: a CORS relay for container registries that is safe to expose, and the server of the
//! wharf page. See `README.md` in this crate for the rules it enforces.

pub mod body;
pub mod config;
pub mod error;
pub mod limits;
pub mod proxy;
pub mod resolve;
pub mod static_files;

pub use config::{Cli, Config, ConfigError};
// The rules, under the names they had when they lived here.
pub use wharf_relay_rules::{cors, headers, ipclass, policy, target};
pub use wharf_relay_rules::{AllowHost, AllowOrigin, RelayError};

use axum::response::IntoResponse;
use axum::routing::{any, get};
use axum::{Json, Router};
use proxy::Relay;
use resolve::GuardedResolver;
use std::sync::Arc;

/// The whole service: `/relay/...`, `/healthz` and the page.
pub fn app(config: Config) -> Router {
    match try_app(config.clone()) {
        Ok(router) => router,
        Err(e) => {
            // Cannot happen with a sane TLS setup; answer every relay request with the reason
            // instead of panicking.
            tracing::error!(error = %e, "relay client could not be built");
            let reason = e.to_string();
            let broken = any(move || {
                let reason = reason.clone();
                async move { error::response(&RelayError::Misconfigured { reason }) }
            });
            Router::new()
                .route("/healthz", get(healthz))
                .route("/relay", broken.clone())
                .route("/relay/", broken.clone())
                .route("/relay/{*target}", broken)
                .merge(static_files::router(config.dist.as_deref()))
        }
    }
}

/// Like [`app`], but reports a client that cannot be built.
pub fn try_app(config: Config) -> Result<Router, reqwest::Error> {
    let policy = policy::Policy::new(config.allow_hosts.clone())
        .with_public_hosts(config.allow_public_hosts.clone());
    let policy = Arc::new(policy);
    let resolver = GuardedResolver::new(Arc::clone(&policy), Arc::clone(&config.lookup));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        // Bodies are relayed byte for byte, whatever reqwest features other crates turn on.
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd()
        .dns_resolver(Arc::new(resolver))
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(config.upstream_idle)
        .build()?;
    let relay = Arc::new(Relay {
        policy,
        client,
        limiter: limits::Limiter::new(
            config.max_concurrent,
            config.client_limit,
            config.origin_limit,
        ),
        client_ip_header: config.client_ip_header.clone(),
        origins: config.allow_origins.clone(),
        idle: config.idle_timeout,
        connect: config.connect_timeout,
        max_redirects: config.max_redirects,
    });
    let relay_routes = Router::new()
        .route("/relay", any(proxy::handle))
        .route("/relay/", any(proxy::handle))
        .route("/relay/{*target}", any(proxy::handle))
        .with_state(relay);
    Ok(Router::new()
        .route("/healthz", get(healthz))
        .merge(relay_routes)
        .merge(static_files::router(config.dist.as_deref())))
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

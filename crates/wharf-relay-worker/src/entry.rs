//! The Worker's `fetch` handler: routes, CORS, refusals.

use crate::forward::forward;
use crate::settings::Settings;
use http::{HeaderMap, Method, StatusCode, Uri};
use wharf_relay_rules::cors::{self, Decision};
use wharf_relay_rules::RelayError;
use worker::{event, Context, Env, Headers, Request, Response, Result};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let url = request.url()?;
    match url.path() {
        "/healthz" => Ok(healthz()),
        path if path == "/relay" || path.starts_with("/relay/") => {
            let uri = match url.query() {
                Some(query) => format!("{path}?{query}"),
                None => path.to_owned(),
            };
            let settings = Settings::from_vars(|name| env.var(name).ok().map(|v| v.to_string()));
            Ok(match (settings, uri.parse::<Uri>()) {
                (Ok(settings), Ok(uri)) => relay(&settings, request, &uri).await,
                (Err(e), _) => refusal(&e),
                (_, Err(e)) => refusal(&RelayError::BadTarget {
                    reason: e.to_string(),
                }),
            })
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            br#"{"error":"not found"}"#.to_vec(),
            HeaderMap::new(),
        )),
    }
}

/// `{"status":"ok","wasm_memory":N}`: the Wasm instance's linear memory in bytes (it only grows,
/// so a leak in the Worker shows here; the soak reads it).
fn healthz() -> Response {
    let bytes = core::arch::wasm32::memory_size(0) as u64 * 65536;
    let body = format!(r#"{{"status":"ok","wasm_memory":{bytes}}}"#);
    json(StatusCode::OK, body.into_bytes(), HeaderMap::new())
}

/// `/relay/...` for every method.
async fn relay(settings: &Settings, request: Request, uri: &Uri) -> Response {
    let headers: HeaderMap = request.headers().into();
    let decision = cors::decide(&headers, &settings.origins);
    if let Decision::Refused(origin) = decision {
        return refusal(&RelayError::OriginNotAllowed { origin });
    }
    let method = Method::from_bytes(request.method().as_ref().as_bytes());
    let response = match method {
        Ok(Method::OPTIONS) => return preflight(&headers, &decision),
        Ok(method @ (Method::GET | Method::HEAD)) => {
            match forward(settings, method, uri, &headers).await {
                Ok(response) => response,
                Err(e) => refusal(&e),
            }
        }
        _ => refusal(&RelayError::MethodNotAllowed {
            method: request.method().to_string(),
        }),
    };
    match &decision {
        Decision::Allowed(origin) => {
            let mut extra = HeaderMap::new();
            cors::apply_actual(&mut extra, origin);
            for (name, value) in &extra {
                if let Ok(value) = value.to_str() {
                    let _ = response.headers().set(name.as_str(), value);
                }
            }
            response
        }
        _ => response,
    }
}

fn preflight(request: &HeaderMap, decision: &Decision) -> Response {
    let headers = match decision {
        Decision::Allowed(origin) => cors::preflight(request, origin),
        Decision::NoOrigin | Decision::Refused(_) => HeaderMap::new(),
    };
    Response::builder()
        .with_status(StatusCode::NO_CONTENT.as_u16())
        .with_headers(Headers::from(&headers))
        .empty()
}

/// A refusal: the status, headers and JSON body the rules give it.
pub fn refusal(e: &RelayError) -> Response {
    let answer = e.answer();
    json(answer.status, answer.body, answer.headers)
}

fn json(status: StatusCode, body: Vec<u8>, mut headers: HeaderMap) -> Response {
    headers
        .entry(http::header::CONTENT_TYPE)
        .or_insert(http::HeaderValue::from_static("application/json"));
    Response::builder()
        .with_status(status.as_u16())
        .with_headers(Headers::from(&headers))
        .fixed(body)
}

//! The CORS headers a registry that allows browsers would send (some do, for `direct` use of the
//! page); [`crate::Front::send_cors`] adds them to what the real registry answers.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

/// Headers the page reads from registry answers.
const EXPOSE: &str = "docker-content-digest, www-authenticate, content-range, content-length, \
                      link, retry-after, ratelimit-limit, ratelimit-remaining";

/// The answer to a preflight: the origin, methods and asked-for headers allowed.
pub fn preflight(request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    allow_origin(headers, request);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD"),
    );
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

/// Whether `method` with these headers is a CORS preflight.
pub fn is_preflight(method: &Method, request: &HeaderMap) -> bool {
    method == Method::OPTIONS && request.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Adds the CORS headers of an actual answer.
pub fn decorate(response: &mut Response, request: &HeaderMap) {
    let headers = response.headers_mut();
    allow_origin(headers, request);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE),
    );
}

fn allow_origin(headers: &mut HeaderMap, request: &HeaderMap) {
    let origin = request
        .get(header::ORIGIN)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::VARY, HeaderValue::from_static("origin"));
}

//! The relay's refusals as axum responses; what they say lives in `wharf_relay_rules::error`.

use axum::body::Body;
use axum::response::Response;
use wharf_relay_rules::RelayError;

/// The response for a refusal: its status, headers and JSON body.
pub fn response(e: &RelayError) -> Response {
    let answer = e.answer();
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_status_headers_and_body() {
        let response = response(&RelayError::Busy);
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}

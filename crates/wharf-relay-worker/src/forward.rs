//! One relayed request: the chain of upstream fetches (redirects followed by the rules' [`Chain`])
//! and the answer passed on with its body as a stream.

use crate::settings::Settings;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use wharf_relay_rules::policy::canonical_host;
use wharf_relay_rules::{headers, Chain, RelayError, Step};
use worker::{Fetch, Headers, Request, RequestInit, RequestRedirect, Response, ResponseBody};

/// Fetches what `/relay/<url>` names, following redirects hop by hop.
pub async fn forward(
    settings: &Settings,
    method: Method,
    uri: &Uri,
    incoming: &HeaderMap,
) -> Result<Response, RelayError> {
    let mut chain = Chain::start(
        &settings.policy,
        settings.max_redirects,
        method,
        uri,
        incoming,
    )?;
    loop {
        let upstream = send(&chain).await?;
        let location = upstream
            .headers()
            .get("location")
            .ok()
            .flatten()
            .and_then(|l| HeaderValue::from_str(&l).ok());
        match chain.answered(upstream.status_code(), location.as_ref())? {
            Step::Deliver => return Ok(respond(upstream, &chain.request().method)),
            Step::Follow(_) => continue,
        }
    }
}

async fn send(chain: &Chain<'_>) -> Result<Response, RelayError> {
    let out = chain.request();
    let host = canonical_host(&out.url).unwrap_or_default();
    let mut init = RequestInit::new();
    init.with_method(worker::Method::from(out.method.to_string()))
        .with_headers(Headers::from(&out.headers))
        .with_redirect(RequestRedirect::Manual);
    let request =
        Request::new_with_init(out.url.as_str(), &init).map_err(|e| upstream(&host, &e))?;
    Fetch::Request(request)
        .send()
        .await
        .map_err(|e| upstream(&host, &e))
}

/// The error of a fetch that got no answer. The URL (which may hold a presigned query) is not in
/// it: workerd's messages name the failure, not the URL.
fn upstream(host: &str, e: &worker::Error) -> RelayError {
    RelayError::Upstream {
        host: host.to_owned(),
        reason: e.to_string(),
    }
}

/// The upstream answer with the relay's header rules applied; the body stays the upstream's
/// stream, so nothing is buffered.
fn respond(upstream: Response, method: &Method) -> Response {
    let status = upstream.status_code();
    let filtered = headers::filter_response(&HeaderMap::from(upstream.headers()));
    let bodiless = *method == Method::HEAD
        || status == StatusCode::NO_CONTENT.as_u16()
        || status == StatusCode::NOT_MODIFIED.as_u16();
    let (_, body) = upstream.into_parts();
    let body = if bodiless { ResponseBody::Empty } else { body };
    Response::builder()
        .with_status(status)
        .with_headers(Headers::from(&filtered))
        .body(body)
}

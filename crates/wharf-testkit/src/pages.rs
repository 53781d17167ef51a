//! Tag-list pagination as the distribution spec gives it (`?n=<count>&last=<tag>`, tags in
//! lexical order, `Link: <…>; rel="next"` while more follow), for [`crate::Front`]: Debian's
//! distribution 2.8.2 ignores `n` and answers every tag at once, in no order, so without this
//! the page's pagination never runs against a real registry. The list itself is the
//! registry's: the front asks it for all tags and cuts the answer into pages.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use serde_json::{json, Value};
use url::Url;

/// One page of `all` (sorted here): at most `n` tags after `last`, and whether more follow.
pub fn page(mut all: Vec<String>, n: Option<usize>, last: Option<&str>) -> (Vec<String>, bool) {
    all.sort();
    all.dedup();
    let after: Vec<String> = all
        .into_iter()
        .filter(|tag| last.is_none_or(|last| tag.as_str() > last))
        .collect();
    match n {
        Some(n) if after.len() > n => (after[..n].to_vec(), true),
        _ => (after, false),
    }
}

/// Whether a request is a tag listing: `GET /v2/<name>/tags/list`.
pub fn is_tag_list(method: &http::Method, path: &str) -> bool {
    method == http::Method::GET && path.starts_with("/v2/") && path.ends_with("/tags/list")
}

/// Answers a tag listing from `upstream`'s full list, one page of it.
pub async fn answer(
    http: &reqwest::Client,
    upstream: &Url,
    path: &str,
    query: Option<&str>,
    headers: &http::HeaderMap,
) -> Response {
    let pairs: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let n = get("n").and_then(|n| n.parse::<usize>().ok());
    let last = get("last");
    let mut url = upstream.clone();
    url.set_path(path);
    let mut request = http.get(url);
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        request = request.header(header::AUTHORIZATION, auth);
    }
    let upstream = match request.send().await {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    if !upstream.status().is_success() {
        let status = upstream.status();
        let headers = crate::front::end_to_end(upstream.headers());
        let mut response = Response::new(Body::from_stream(upstream.bytes_stream()));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        return response;
    }
    let listed: Value = match upstream.json().await {
        Ok(value) => value,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let all: Vec<String> = listed["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let (tags, more) = page(all, n, last.as_deref());
    let doc = json!({ "name": listed["name"], "tags": tags }).to_string();
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc,
    )
        .into_response();
    if let (true, Some(n), Some(last)) = (more, n, tags.last()) {
        let next: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("n", &n.to_string())
            .append_pair("last", last)
            .finish();
        let link = format!("<{path}?{next}>; rel=\"next\"");
        if let Ok(value) = http::HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::page;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| (*t).to_owned()).collect()
    }

    /// `n`, `last`, the page, whether more follow.
    type Case<'a> = (Option<usize>, Option<&'a str>, &'a [&'a str], bool);

    #[test]
    fn pages_in_lexical_order() {
        let all = tags(&["c", "a", "e", "b", "d"]);
        let cases: &[Case] = &[
            (None, None, &["a", "b", "c", "d", "e"], false),
            (Some(2), None, &["a", "b"], true),
            (Some(2), Some("b"), &["c", "d"], true),
            (Some(2), Some("d"), &["e"], false),
            (Some(5), None, &["a", "b", "c", "d", "e"], false),
            (Some(2), Some("e"), &[], false),
            (None, Some("bb"), &["c", "d", "e"], false),
        ];
        for (n, last, want, more) in cases {
            let got = page(all.clone(), *n, *last);
            assert_eq!(got, (tags(want), *more), "n={n:?} last={last:?}");
        }
    }
}

//! Small bindings to what both the Window and a Worker global scope have (`fetch`,
//! `setTimeout`, `navigator.storage`), and turning JS exceptions into [`IoError`]s.
//!
//! Bound as free functions of the global object (`js_sys::global()`), so the same code runs in
//! the page and in the download worker, which `web_sys::window()` would not.

use http::{HeaderMap, HeaderName, HeaderValue};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::IoError;

#[wasm_bindgen]
extern "C" {
    /// `WindowOrWorkerGlobalScope.fetch`.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &web_sys::Request) -> Promise;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
}

/// Runs `fetch(request)`; a rejection (no HTTP answer) is returned as the JS value.
pub async fn fetch(request: &web_sys::Request) -> Result<web_sys::Response, JsValue> {
    let response = JsFuture::from(global_fetch(request)).await?;
    response.dyn_into::<web_sys::Response>()
}

/// Resolves after `ms` milliseconds.
pub async fn sleep_ms(ms: u64) {
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    let promise = Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms);
    });
    // A timer promise never rejects.
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    let now = js_sys::Date::now();
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

/// `navigator.userAgent` of the current global scope ("" if unknown).
pub fn user_agent() -> String {
    Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .and_then(|n| Reflect::get(&n, &JsValue::from_str("userAgent")))
        .ok()
        .and_then(|ua| ua.as_string())
        .unwrap_or_default()
}

/// `navigator.storage` of the current global scope.
pub fn storage_manager() -> Result<web_sys::StorageManager, IoError> {
    let global = js_sys::global();
    let navigator = Reflect::get(&global, &JsValue::from_str("navigator"))
        .map_err(|e| browser("navigator", &e))?;
    let storage = Reflect::get(&navigator, &JsValue::from_str("storage"))
        .map_err(|e| browser("navigator.storage", &e))?;
    if storage.is_undefined() || storage.is_null() {
        return Err(IoError::Storage {
            operation: "open".into(),
            message: "this browser has no navigator.storage (Origin Private File System)".into(),
        });
    }
    Ok(storage.unchecked_into())
}

/// The `name` of a DOM exception or error (`TypeError`, `AbortError`, `NotFoundError`, ...).
pub fn error_name(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// `Name: message` of a JS exception, or its string form.
pub fn error_text(e: &JsValue) -> String {
    let message = Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|v| v.as_string());
    match (error_name(e), message) {
        (name, Some(m)) if !name.is_empty() => format!("{name}: {m}"),
        (_, Some(m)) => m,
        (name, None) if !name.is_empty() => name,
        _ => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

/// An unexpected exception from a browser API.
pub fn browser(what: &str, e: &JsValue) -> IoError {
    IoError::Browser {
        message: format!("{what}: {}", error_text(e)),
    }
}

/// An OPFS failure.
pub fn storage(operation: &str, e: &JsValue) -> IoError {
    IoError::Storage {
        operation: operation.to_owned(),
        message: error_text(e),
    }
}

/// The response headers the protocol reads, as an `http::HeaderMap`. `Headers.get` joins a
/// repeated header with ", ", which is how these headers are defined to combine.
pub fn response_headers(response: &web_sys::Response) -> HeaderMap {
    const NAMES: &[&str] = &[
        "content-type",
        "content-length",
        "content-range",
        "content-encoding",
        "docker-content-digest",
        "www-authenticate",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "link",
        "etag",
    ];
    let headers = response.headers();
    let mut map = HeaderMap::new();
    for name in NAMES {
        let Ok(Some(value)) = headers.get(name) else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
    map
}

/// Reads a whole (small) body: manifests, tag lists, token answers, error documents.
pub async fn body_bytes(response: &web_sys::Response) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

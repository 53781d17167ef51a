//! Request descriptions built by the core for every protocol step, and decoding of registry
//! error documents. Drivers (the browser app, the native test kit) only execute them.

/// One HTTP request for a driver to execute: method, absolute URL, headers (repeated headers,
/// such as several `Accept`, are kept as separate entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: http::Method,
    pub url: url::Url,
    pub headers: http::HeaderMap,
}

/// One error entry of a registry error document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    pub code: String,
    pub message: String,
}

pub struct RegistryErrors;

impl RegistryErrors {
    pub fn summary(errors: &[RegistryError]) -> String {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

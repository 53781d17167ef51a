//! The relay setting: how a registry URL becomes the URL the browser fetches.
//!
//! Registries send no CORS headers, so the page reaches them through a relay. The setting is a
//! URL template with one placeholder, `{url}` (the upstream URL as it is, e.g. wharf-relay's
//! `/relay/{url}`) or `{url_encoded}` (percent-encoded as a URI component, for proxies such as
//! `https://corsproxy.example/?url={url_encoded}`), or the word `direct` for registries that send
//! CORS headers themselves. A template may be absolute (`https://…`) or start with `/` (same
//! origin as the page, which is what wharf-relay serves).
//!
//! It lives in the core so that the page and `cargo xtask dist --relay` check a setting with
//! the same parser.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::error::Error;

const RAW: &str = "{url}";
const ENCODED: &str = "{url_encoded}";
/// The word that selects no relay.
pub const DIRECT: &str = "direct";

/// What `encodeURIComponent` leaves alone: ASCII alphanumerics and `-_.!~*'()`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// How the upstream URL is put into the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{url}`: inserted as it is.
    Raw,
    /// `{url_encoded}`: percent-encoded like `encodeURIComponent`.
    Encoded,
}

/// A validated relay setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayTemplate {
    /// Fetch registries directly (they must send CORS headers).
    Direct,
    /// Fetch `prefix + upstream + suffix`.
    Template {
        prefix: String,
        placeholder: Placeholder,
        suffix: String,
    },
}

impl Default for RelayTemplate {
    /// wharf-relay's own route, on the origin that serves the page.
    fn default() -> Self {
        RelayTemplate::Template {
            prefix: "/relay/".to_owned(),
            placeholder: Placeholder::Raw,
            suffix: String::new(),
        }
    }
}

impl RelayTemplate {
    /// Parses a setting: `direct` (any case, surrounding spaces ignored) or a template with
    /// exactly one `{url}` or `{url_encoded}` that is an absolute http(s) URL or a path
    /// starting with `/`.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let trimmed = input.trim();
        let invalid = |reason: &str| Error::InvalidRelay {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if trimmed.eq_ignore_ascii_case(DIRECT) {
            return Ok(RelayTemplate::Direct);
        }
        if trimmed.is_empty() {
            return Err(invalid(
                "empty: give a URL template with {url} or {url_encoded}, or \"direct\"",
            ));
        }
        let raw = trimmed.matches(RAW).count();
        let encoded = trimmed.matches(ENCODED).count();
        let (placeholder, marker) = match (raw, encoded) {
            (1, 0) => (Placeholder::Raw, RAW),
            (0, 1) => (Placeholder::Encoded, ENCODED),
            (0, 0) => return Err(invalid("the template has no {url} or {url_encoded}")),
            _ => {
                return Err(invalid(
                    "the template must hold exactly one {url} or {url_encoded}",
                ))
            }
        };
        let (prefix, suffix) = trimmed
            .split_once(marker)
            .ok_or_else(|| invalid("the template has no placeholder"))?;
        if prefix.contains(['{', '}']) || suffix.contains(['{', '}']) {
            return Err(invalid(
                "unknown placeholder: only {url} and {url_encoded} exist",
            ));
        }
        check_base(prefix).map_err(|reason| invalid(&reason))?;
        Ok(RelayTemplate::Template {
            prefix: prefix.to_owned(),
            placeholder,
            suffix: suffix.to_owned(),
        })
    }

    /// A setting that names several relays, separated by white space: the first is the one the
    /// page uses, the others are where **Check through another relay** asks again.
    pub fn parse_list(input: &str) -> Result<Vec<Self>, Error> {
        let list = input
            .split_whitespace()
            .map(RelayTemplate::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            // The empty setting's own error.
            return RelayTemplate::parse(input).map(|t| vec![t]);
        }
        Ok(list)
    }

    /// True for the `direct` setting.
    pub fn is_direct(&self) -> bool {
        matches!(self, RelayTemplate::Direct)
    }

    /// The URL to fetch for `upstream`.
    pub fn apply(&self, upstream: &Url) -> String {
        match self {
            RelayTemplate::Direct => upstream.as_str().to_owned(),
            RelayTemplate::Template {
                prefix,
                placeholder,
                suffix,
            } => {
                let inserted = match placeholder {
                    Placeholder::Raw => upstream.as_str().to_owned(),
                    Placeholder::Encoded => {
                        utf8_percent_encode(upstream.as_str(), URI_COMPONENT).to_string()
                    }
                };
                format!("{prefix}{inserted}{suffix}")
            }
        }
    }
}

/// The part before the placeholder must make the template an absolute http(s) URL or a path
/// on the page's own origin.
fn check_base(prefix: &str) -> Result<(), String> {
    if prefix.starts_with("//") {
        return Err("scheme-relative templates (//host) are ambiguous; write https://".to_owned());
    }
    if prefix.starts_with('/') {
        return Ok(());
    }
    if prefix.is_empty() {
        return Err(
            "the template must start with http(s):// or /, not with the placeholder".to_owned(),
        );
    }
    // Parse with a stand-in for the upstream URL so that the host part is checked.
    let probe = format!("{prefix}x");
    let url = Url::parse(&probe).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("the relay URL must be http or https, not {other}:")),
    }
    // `url` forgives `https:///host`; a template must be written out: `scheme://host/...`,
    // with the host complete before the placeholder.
    let authority = prefix
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| "not a URL: expected http(s)://host/".to_owned())?;
    match authority.find(['/', '?', '#']) {
        Some(0) | None => Err("not a URL: the host must come before the placeholder, as in https://relay.example/relay/{url}".to_owned()),
        Some(_) => Ok(()),
    }
}

impl fmt::Display for RelayTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayTemplate::Direct => f.write_str(DIRECT),
            RelayTemplate::Template {
                prefix,
                placeholder,
                suffix,
            } => {
                let marker = match placeholder {
                    Placeholder::Raw => RAW,
                    Placeholder::Encoded => ENCODED,
                };
                write!(f, "{prefix}{marker}{suffix}")
            }
        }
    }
}

impl FromStr for RelayTemplate {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        RelayTemplate::parse(s)
    }
}

impl Serialize for RelayTemplate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RelayTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        RelayTemplate::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;

//! The token request (`GET realm?service=..&scope=..`) and its JSON answer, per the
//! distribution token spec, and [`Timestamp`], the only notion of time in this crate.

use std::collections::BTreeSet;

use http::header::{ACCEPT, AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;
use url::Url;

use super::credentials::{basic_authorization, bearer_authorization, is_sendable_token};
use super::{Credentials, Scope, Secret};
use crate::error::{Error, Result};
use crate::request::Request;

/// Lifetime of a token whose answer has no `expires_in` (distribution token spec).
pub const DEFAULT_EXPIRES_IN: u64 = 60;

/// Largest token answer accepted; real ones are a few KiB (a JWT and some fields).
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 1 << 20;

/// A point in time as whole seconds since the Unix epoch (UTC). The driver reads its clock and
/// passes the result in; nothing here reads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    pub const fn from_unix_seconds(seconds: u64) -> Timestamp {
        Timestamp(seconds)
    }

    pub const fn unix_seconds(self) -> u64 {
        self.0
    }

    pub const fn saturating_add(self, seconds: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// An RFC 3339 date-time (`2024-05-13T12:34:56.789Z`, any offset), rounded down to the
    /// second. `None` for other text or a time before 1970.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let parsed =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .ok()?;
        u64::try_from(parsed.unix_timestamp()).ok().map(Timestamp)
    }
}

/// How several scopes go into the token URL. Both are accepted by the CNCF distribution token
/// servers; Docker Hub and docker's own client use one `scope` parameter per scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeStyle {
    /// `scope=a&scope=b`
    #[default]
    Repeated,
    /// `scope=a%20b` (one parameter, space-separated)
    SpaceJoined,
}

/// The token request for a Bearer challenge: `GET realm?service=..&scope=..` (the realm's own
/// query is kept), `Accept: application/json`, and `Authorization: Basic` when a user and
/// password are given (anonymous otherwise). Scopes are sorted and de-duplicated, so the same set
/// always gives the same URL. A [`Credentials::Token`] is refused: a registry token goes to the
/// registry directly (see [`super::next_action`]), never to a token endpoint.
pub fn token_request(
    realm: &Url,
    service: Option<&str>,
    scopes: &[Scope],
    style: ScopeStyle,
    credentials: Option<&Credentials>,
) -> Result<Request> {
    if !matches!(realm.scheme(), "http" | "https") || !realm.has_host() {
        return Err(Error::InvalidUrl {
            input: realm.to_string(),
            reason: "a token realm must be an absolute http(s) URL".to_owned(),
        });
    }
    let mut url = realm.clone();
    let scopes: BTreeSet<&str> = scopes.iter().map(Scope::as_str).collect();
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = service {
            query.append_pair("service", service);
        }
        match style {
            ScopeStyle::Repeated => {
                for scope in &scopes {
                    query.append_pair("scope", scope);
                }
            }
            ScopeStyle::SpaceJoined if !scopes.is_empty() => {
                let joined = scopes.iter().copied().collect::<Vec<_>>().join(" ");
                query.append_pair("scope", &joined);
            }
            ScopeStyle::SpaceJoined => {}
        }
    }
    // `query_pairs_mut` leaves a bare `?` when nothing was appended to a query-less realm.
    if url.query() == Some("") {
        url.set_query(None);
    }
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    match credentials {
        None => {}
        Some(Credentials::UserPassword { username, password }) => {
            headers.insert(AUTHORIZATION, basic_authorization(username, password)?);
        }
        Some(Credentials::Token(_)) => {
            return Err(Error::InvalidCredentials {
                reason: "a registry token is sent to the registry, not to a token endpoint"
                    .to_owned(),
            })
        }
    }
    Ok(Request {
        method: Method::GET,
        url,
        headers,
    })
}

/// A token endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// `token`, or `access_token` when `token` is absent or empty.
    pub token: Secret,
    /// Seconds the token lives after `issued_at`; [`DEFAULT_EXPIRES_IN`] when not given.
    pub expires_in: u64,
    /// When the token server issued the token, if it said so.
    pub issued_at: Option<Timestamp>,
}

impl TokenResponse {
    /// Decodes `{"token", "access_token", "expires_in", "issued_at"}`. Unknown fields (such as
    /// `refresh_token`) are ignored. Error texts name fields, never their values: the body holds
    /// secrets.
    pub fn parse(body: &[u8]) -> Result<TokenResponse> {
        if body.len() > MAX_TOKEN_RESPONSE_BYTES {
            return Err(invalid("body over 1 MiB"));
        }
        let value: Value =
            serde_json::from_slice(body).map_err(|_| invalid("body is not valid JSON"))?;
        let object = value
            .as_object()
            .ok_or_else(|| invalid("body is not a JSON object"))?;
        let token = ["token", "access_token"]
            .iter()
            .map(|field| string_field(object, field))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .find(|t| !t.is_empty())
            .ok_or_else(|| invalid("neither token nor access_token is given"))?;
        if !is_sendable_token(token) {
            return Err(invalid("the token is not visible ASCII"));
        }
        let expires_in = match object.get("expires_in") {
            None | Some(Value::Null) => DEFAULT_EXPIRES_IN,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| invalid("expires_in is not a non-negative integer"))?,
        };
        let issued_at = string_field(object, "issued_at")?
            .map(|t| {
                Timestamp::parse_rfc3339(t)
                    .ok_or_else(|| invalid("issued_at is not an RFC 3339 time after 1970"))
            })
            .transpose()?;
        Ok(TokenResponse {
            token: Secret::new(token),
            expires_in,
            issued_at,
        })
    }

    /// `Authorization: Bearer <token>` for the real request, marked sensitive.
    pub fn authorization(&self) -> Result<HeaderValue> {
        bearer_authorization(&self.token)
    }
}

/// A field that must be a string when present (`null` counts as absent).
fn string_field<'a>(
    object: &'a serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(&format!("{field} is not a string"))),
    }
}

fn invalid(reason: &str) -> Error {
    Error::InvalidTokenResponse {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests;

//! What to do after a 401: a pure decision from the challenges and the user's credentials.

use std::collections::BTreeSet;

use http::HeaderValue;
use url::Url;

use super::token::{token_request, ScopeStyle};
use super::{basic_authorization, bearer_authorization, Challenge, Credentials, Scope};
use crate::error::{Error, Result};
use crate::request::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    Basic,
    Bearer,
}

/// The driver's next step after a 401. `Debug` never shows a secret (`Authorization` values are
/// marked sensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextAction {
    /// Execute this token request, decode the answer with [`super::TokenResponse::parse`], keep
    /// it in the [`super::TokenCache`] under (registry, `scopes`), and retry with its token.
    FetchToken {
        request: Request,
        scopes: Vec<Scope>,
    },
    /// Retry the request with this `Authorization: Basic` value (registries in htpasswd mode
    /// want it on every request).
    UseBasic(HeaderValue),
    /// Retry the request with the user's registry token as this `Authorization: Bearer` value.
    UseBearer(HeaderValue),
    /// Nothing we hold can answer: ask the user for credentials (`realm` names what for).
    NeedCredentials {
        scheme: AuthScheme,
        realm: Option<String>,
    },
}

/// Decides the next step from a 401's `WWW-Authenticate` values, the user's credentials, and the
/// scopes the request needs (e.g. `[Scope::pull("library/alpine")?]`; the challenge's own scopes
/// are added). Bearer is preferred over Basic when both are offered, as docker does.
///
/// This is stateless: a driver retries at most once per request, so that a refused answer cannot
/// loop. One `error` in a Bearer challenge is read: `insufficient_scope` without credentials (an
/// anonymous token was not enough), or any error for a registry token, means only other
/// credentials can help.
pub fn next_action<V: AsRef<[u8]>>(
    www_authenticate: &[V],
    credentials: Option<&Credentials>,
    wanted: &[Scope],
) -> Result<NextAction> {
    let challenges = Challenge::parse_all(www_authenticate)?;
    if challenges.is_empty() {
        return Err(Error::MissingChallenge);
    }
    let bearer = challenges.iter().find_map(|c| match c {
        Challenge::Bearer {
            realm,
            service,
            scope,
            error,
        } => Some(Bearer {
            realm,
            service: service.as_deref(),
            scope,
            error: error.as_deref(),
        }),
        _ => None,
    });
    let basic = challenges.iter().find_map(|c| match c {
        Challenge::Basic { realm } => Some(realm),
        _ => None,
    });
    match (bearer, basic) {
        (Some(bearer), _) => answer_bearer(bearer, credentials, wanted),
        (None, Some(realm)) => match credentials {
            Some(Credentials::UserPassword { username, password }) => Ok(NextAction::UseBasic(
                basic_authorization(username, password)?,
            )),
            _ => Ok(NextAction::NeedCredentials {
                scheme: AuthScheme::Basic,
                realm: realm.clone(),
            }),
        },
        (None, None) => Err(Error::UnsupportedAuthScheme {
            schemes: challenges.iter().map(|c| c.scheme().to_owned()).collect(),
        }),
    }
}

/// The fields of a [`Challenge::Bearer`], borrowed.
struct Bearer<'a> {
    realm: &'a Url,
    service: Option<&'a str>,
    scope: &'a [String],
    error: Option<&'a str>,
}

fn answer_bearer(
    challenge: Bearer<'_>,
    credentials: Option<&Credentials>,
    wanted: &[Scope],
) -> Result<NextAction> {
    let Bearer {
        realm,
        service,
        scope,
        error,
    } = challenge;
    let refused = match credentials {
        None => error == Some("insufficient_scope"),
        Some(Credentials::Token(_)) => error.is_some(),
        Some(Credentials::UserPassword { .. }) => false,
    };
    if refused {
        return Ok(NextAction::NeedCredentials {
            scheme: AuthScheme::Bearer,
            realm: Some(realm.to_string()),
        });
    }
    if let Some(Credentials::Token(token)) = credentials {
        return Ok(NextAction::UseBearer(bearer_authorization(token)?));
    }
    let mut scopes: BTreeSet<Scope> = wanted.iter().cloned().collect();
    for s in scope {
        scopes.insert(s.parse()?);
    }
    let scopes: Vec<Scope> = scopes.into_iter().collect();
    let request = token_request(realm, service, &scopes, ScopeStyle::Repeated, credentials)?;
    Ok(NextAction::FetchToken { request, scopes })
}

#[cfg(test)]
mod tests;

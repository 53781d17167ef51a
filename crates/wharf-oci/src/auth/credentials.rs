//! Credentials, secrets that never print, and the `Authorization` values built from them.

use std::fmt;

use base64::Engine as _;
use http::HeaderValue;

use crate::error::{Error, Result};

/// A password or token. `Debug` and `Display` print `***`; read it with [`Secret::expose`] only
/// where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Secret {
        Secret(secret)
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Secret {
        Secret(secret.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a user can give to reach a private repository. The derived `Debug` is redacting because
/// every secret is a [`Secret`] (`UserPassword { username: "alice", password: *** }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name with a password or a personal access token used as password (Docker Hub,
    /// GHCR). Sent as Basic, to the token endpoint or (htpasswd registries) to the registry.
    UserPassword { username: String, password: Secret },
    /// A registry token, sent as-is as `Authorization: Bearer` to the registry (what Docker calls
    /// a "registry token"); it is never exchanged at a token endpoint.
    Token(Secret),
}

impl Credentials {
    /// User and password, checked so that they can be sent as Basic (RFC 7617: no `:` in the
    /// user name, no control characters in either).
    pub fn user_password(username: impl Into<String>, password: impl Into<Secret>) -> Result<Self> {
        let credentials = Credentials::UserPassword {
            username: username.into(),
            password: password.into(),
        };
        credentials.authorization()?;
        Ok(credentials)
    }

    /// A registry token, checked so that it can be sent as Bearer.
    pub fn token(token: impl Into<Secret>) -> Result<Self> {
        let credentials = Credentials::Token(token.into());
        credentials.authorization()?;
        Ok(credentials)
    }

    /// The `Authorization` value these credentials give on their own: Basic for a user and
    /// password, Bearer for a registry token. Marked sensitive.
    pub fn authorization(&self) -> Result<HeaderValue> {
        match self {
            Credentials::UserPassword { username, password } => {
                basic_authorization(username, password)
            }
            Credentials::Token(token) => bearer_authorization(token),
        }
    }
}

/// `Basic base64(user:password)` (RFC 7617, UTF-8), marked sensitive.
pub fn basic_authorization(username: &str, password: &Secret) -> Result<HeaderValue> {
    if username.contains(':') {
        return Err(invalid("the user name contains ':'"));
    }
    if username.chars().any(char::is_control) || password.expose().chars().any(char::is_control) {
        return Err(invalid(
            "user name or password contains a control character",
        ));
    }
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    sensitive(format!("Basic {encoded}"))
}

/// `Bearer <token>`, marked sensitive. The token must be non-empty visible ASCII (JWTs, opaque
/// registry tokens and RFC 6750's b64token all are).
pub fn bearer_authorization(token: &Secret) -> Result<HeaderValue> {
    if !is_sendable_token(token.expose()) {
        return Err(invalid("the token is empty or not visible ASCII"));
    }
    sensitive(format!("Bearer {}", token.expose()))
}

/// Whether a token can go into `Authorization: Bearer <token>` unchanged.
pub(crate) fn is_sendable_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

fn sensitive(value: String) -> Result<HeaderValue> {
    let mut value = HeaderValue::try_from(value)
        .map_err(|_| invalid("the Authorization value is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Reasons are fixed texts: they must never quote a secret.
fn invalid(reason: &str) -> Error {
    Error::InvalidCredentials {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "s3cret-Pa55";
    const TOKEN: &str = "ghp_TopSecretToken123";

    #[test]
    fn debug_and_display_never_show_secrets() {
        let all = [
            Credentials::user_password("alice", PASSWORD).unwrap(),
            Credentials::token(TOKEN).unwrap(),
        ];
        for creds in &all {
            for shown in [format!("{creds:?}"), format!("{creds:#?}")] {
                assert!(
                    !shown.contains(PASSWORD) && !shown.contains(TOKEN),
                    "{shown}"
                );
                assert!(shown.contains("***"), "{shown}");
            }
            // The header value itself is marked sensitive, so `http` hides it in Debug too.
            let header = creds.authorization().unwrap();
            assert!(header.is_sensitive());
            assert_eq!(format!("{header:?}"), "Sensitive");
        }
        assert_eq!(
            format!("{:?}", all[0]),
            r#"UserPassword { username: "alice", password: *** }"#
        );
        assert_eq!(format!("{:?}", all[1]), "Token(***)");
        let secret = Secret::new(PASSWORD);
        assert_eq!(format!("{secret} {secret:?} {secret:>10}"), "*** *** ***");
        assert_eq!(secret.expose(), PASSWORD);
    }

    #[test]
    fn basic_header_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            // RFC 7617's own example.
            (
                "Aladdin",
                "open sesame",
                Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            ),
            ("alice", "s3cret", Some("Basic YWxpY2U6czNjcmV0")),
            ("alice", "pa:ss", Some("Basic YWxpY2U6cGE6c3M=")),
            ("", "", Some("Basic Og==")),
            ("test", "123£", Some("Basic dGVzdDoxMjPCow==")),
            ("al:ice", "x", None),
            ("alice", "line\nbreak", None),
            ("al\u{0}ice", "x", None),
        ];
        for &(user, pass, want) in cases {
            let got = basic_authorization(user, &Secret::from(pass));
            match want {
                Some(v) => assert_eq!(got.unwrap(), v, "{user:?}"),
                None => {
                    let err = got.unwrap_err();
                    assert!(matches!(err, Error::InvalidCredentials { .. }), "{err:?}");
                    assert!(!err.to_string().contains(pass) || pass == "x", "{err}");
                }
            }
        }
    }

    #[test]
    fn bearer_header_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("QQ==", Some("Bearer QQ==")),
            (
                "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
                Some("Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
            ),
            ("", None),
            ("two words", None),
            ("tab\there", None),
            ("café", None),
        ];
        for &(token, want) in cases {
            let got = bearer_authorization(&Secret::from(token));
            match want {
                Some(v) => assert_eq!(got.unwrap(), v),
                None => assert!(
                    matches!(got, Err(Error::InvalidCredentials { .. })),
                    "{token:?}"
                ),
            }
        }
        assert!(Credentials::token("bad token").is_err());
        assert!(Credentials::user_password("a:b", "x").is_err());
    }
}

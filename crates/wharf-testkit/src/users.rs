//! Users, passwords and per-repository rights of the private registry modes.

use std::fmt;

use base64::Engine as _;

/// A password or token: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// The value of an `Authorization: Basic ...` header.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password.expose());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// `user:password`, as skopeo's `--creds` wants it.
    pub fn colon_pair(&self) -> String {
        format!("{}:{}", self.username, self.password.expose())
    }
}

/// A user of the basic and token modes. Rights are repository patterns: `*` (every
/// repository), `prefix/*` (every repository below `prefix/`) or an exact name. Basic mode
/// (htpasswd) has no per-repository rights: every user may pull and push everything there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub credentials: Credentials,
    pub pull: Vec<String>,
    pub push: Vec<String>,
}

impl User {
    pub fn new(username: &str, password: &str) -> User {
        User {
            credentials: Credentials::new(username, password),
            pull: Vec::new(),
            push: Vec::new(),
        }
    }

    /// Adds a pull right.
    pub fn pull(mut self, pattern: &str) -> User {
        self.pull.push(pattern.to_owned());
        self
    }

    /// Adds a push (and so pull) right.
    pub fn push(mut self, pattern: &str) -> User {
        self.push.push(pattern.to_owned());
        self.pull.push(pattern.to_owned());
        self
    }

    pub fn name(&self) -> &str {
        &self.credentials.username
    }

    pub fn may_pull(&self, repository: &str) -> bool {
        matches_any(&self.pull, repository)
    }

    pub fn may_push(&self, repository: &str) -> bool {
        matches_any(&self.push, repository)
    }
}

/// Whether `repository` matches one of `patterns` (`*`, `prefix/*` or an exact name).
pub fn matches_any(patterns: &[String], repository: &str) -> bool {
    patterns.iter().any(|p| matches(p, repository))
}

fn matches(pattern: &str, repository: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(prefix) => repository
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1),
        None => pattern == repository,
    }
}

/// The users every private registry gets unless the builder replaces them:
/// `alice`/`s3cret` may pull everything, `bob`/`hunter2` only `bob/*`.
pub fn default_users() -> Vec<User> {
    vec![
        User::new("alice", "s3cret").pull("*"),
        User::new("bob", "hunter2").pull("bob/*"),
    ]
}

/// The seeding user (push everywhere) with a fresh random password.
pub fn admin_user() -> User {
    let password: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    User::new("wharf-admin", &password).push("*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_documented() {
        let cases = [
            ("*", "a/b", true),
            ("bob/*", "bob/x", true),
            ("bob/*", "bob/x/y", true),
            ("bob/*", "bob", false),
            ("bob/*", "bobby/x", false),
            ("bob/*", "bob/", false),
            ("lib/alpine", "lib/alpine", true),
            ("lib/alpine", "lib/alpine2", false),
        ];
        for (pattern, repo, want) in cases {
            assert_eq!(matches(pattern, repo), want, "{pattern} vs {repo}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let creds = Credentials::new("alice", "s3cret");
        assert!(!format!("{creds:?}").contains("s3cret"));
        assert_eq!(creds.basic_header(), "Basic YWxpY2U6czNjcmV0");
    }
}

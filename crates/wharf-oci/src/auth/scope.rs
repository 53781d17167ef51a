//! Token scopes (`repository:<name>:pull`), as the distribution token spec writes them:
//! `resourcetype ":" resourcename ":" action *( "," action )`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Longest repository name the distribution spec allows.
const MAX_NAME_LEN: usize = 255;

/// A validated token scope. Ordered (so a set of them sorts the same way every time) and
/// hashable, so it can be part of a cache key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

impl Scope {
    /// `repository:<name>:pull` for a repository path such as `library/hello-world` or
    /// `homebrew/core/vim`. The name is checked against the repository grammar
    /// (lowercase `[a-z0-9]+` components joined by `.`, `_`, `__` or runs of `-`, separated by
    /// `/`, at most 255 bytes), so no caller can smuggle `:` or spaces into a scope.
    pub fn pull(repository: &str) -> Result<Scope> {
        check_repository(repository).map_err(|reason| Error::InvalidScope {
            input: repository.to_owned(),
            reason: reason.to_owned(),
        })?;
        Ok(Scope(format!("repository:{repository}:pull")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a scope a registry sent in its challenge. Such scopes are echoed back to the token
/// server, so the check is structural only: `type:name:actions` with non-empty parts and no
/// whitespace or control characters. The name may itself hold `:` (a `host:port/` prefix), so
/// the type ends at the first `:` and the actions start after the last one.
impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Scope> {
        check_scope(s).map_err(|reason| Error::InvalidScope {
            input: s.to_owned(),
            reason: reason.to_owned(),
        })?;
        Ok(Scope(s.to_owned()))
    }
}

fn check_scope(s: &str) -> std::result::Result<(), &'static str> {
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("scopes are visible ASCII without spaces");
    }
    let (kind, rest) = s.split_once(':').ok_or("expected type:name:actions")?;
    let (name, actions) = rest.rsplit_once(':').ok_or("expected type:name:actions")?;
    if kind.is_empty() || name.is_empty() {
        return Err("empty resource type or name");
    }
    if actions.split(',').any(str::is_empty) {
        return Err("empty action");
    }
    Ok(())
}

fn check_repository(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty repository name");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("repository name longer than 255 bytes");
    }
    if name.split('/').all(valid_component) {
        Ok(())
    } else {
        Err("repository path components are lowercase [a-z0-9]+ joined by '.', '_', '__' or '-'")
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(component: &str) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let ends_ok = bytes.first().is_some_and(alnum) && bytes.last().is_some_and(alnum);
    ends_ok
        && bytes
            .split(alnum)
            .filter(|sep| !sep.is_empty())
            .all(|sep| matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&b| b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_scopes_table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "library/hello-world",
                Some("repository:library/hello-world:pull"),
            ),
            (
                "homebrew/core/vim",
                Some("repository:homebrew/core/vim:pull"),
            ),
            ("a", Some("repository:a:pull")),
            ("a.b_c__d---e/f0", Some("repository:a.b_c__d---e/f0:pull")),
            ("", None),
            ("Library/hello", None),
            ("a//b", None),
            ("/a", None),
            ("a/", None),
            ("a:pull", None),
            ("a b", None),
            ("a___b", None),
            ("a..b", None),
            ("a._b", None),
            ("-a", None),
            ("a-", None),
            ("a*", None),
        ];
        for &(name, want) in cases {
            let got = Scope::pull(name);
            match want {
                Some(s) => assert_eq!(got.unwrap().as_str(), s, "{name:?}"),
                None => assert!(
                    matches!(got, Err(Error::InvalidScope { .. })),
                    "{name:?}: {got:?}"
                ),
            }
        }
        let long = "a".repeat(256);
        assert!(Scope::pull(&long).is_err());
        assert!(Scope::pull(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn server_scopes_table() {
        let cases: &[(&str, bool)] = &[
            ("repository:library/hello-world:pull", true),
            ("repository:samalba/my-app:pull,push", true),
            ("registry:catalog:*", true),
            ("repository(plugin):a/b:pull", true),
            ("repository:localhost:5000/a:pull", true),
            ("repository:a", false),
            ("repository::pull", false),
            (":a:pull", false),
            ("repository:a:", false),
            ("repository:a:pull,", false),
            ("repository:a b:pull", false),
            ("repository:a:pull\n", false),
            ("", false),
        ];
        for &(s, ok) in cases {
            let got = s.parse::<Scope>();
            assert_eq!(got.is_ok(), ok, "{s:?}: {got:?}");
            if let Ok(scope) = got {
                assert_eq!(scope.to_string(), s);
            }
        }
    }
}

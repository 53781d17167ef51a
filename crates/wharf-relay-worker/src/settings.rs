//! The Worker's settings, read from its vars (`wrangler.toml` `[vars]`, or text bindings in a
//! workerd config). The names and syntax follow `wharf-relay`'s flags:
//!
//! | var | like | value |
//! | --- | --- | --- |
//! | `ALLOW_HOSTS` | `--allow-host` | space- or comma-separated `scheme://host[:port]` |
//! | `ALLOW_PUBLIC_HOSTS` | `--allow-public-host` | the same, public addresses only |
//! | `ALLOW_ORIGINS` | `--allow-origin` | `*` or origins, space- or comma-separated |
//! | `MAX_REDIRECTS` | `--max-redirects` | a number, 5 when unset |

use wharf_relay_rules::{AllowHost, AllowOrigin, Policy, RelayError};

/// What the relay needs to decide, built from the vars on every request (they are a few bytes).
#[derive(Debug)]
pub struct Settings {
    pub policy: Policy,
    pub origins: Vec<AllowOrigin>,
    pub max_redirects: usize,
}

/// The redirect limit when `MAX_REDIRECTS` is unset (as `wharf-relay`'s default).
const DEFAULT_MAX_REDIRECTS: usize = 5;

impl Settings {
    /// Parses the vars; `var` gives a var's text, or None when it is unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, RelayError> {
        let hosts = list::<AllowHost>(&var, "ALLOW_HOSTS")?;
        let public = list::<AllowHost>(&var, "ALLOW_PUBLIC_HOSTS")?;
        let origins = list::<AllowOrigin>(&var, "ALLOW_ORIGINS")?;
        let max_redirects = match var("MAX_REDIRECTS").filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_MAX_REDIRECTS,
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| misconfigured("MAX_REDIRECTS", &text))?,
        };
        Ok(Self {
            policy: Policy::new(hosts).with_public_hosts(public),
            origins,
            max_redirects,
        })
    }
}

fn list<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Vec<T>, RelayError> {
    let text = var(name).unwrap_or_default();
    text.split([' ', ',', '\n', '\t'])
        .filter(|item| !item.is_empty())
        .map(|item| item.parse().map_err(|_| misconfigured(name, item)))
        .collect()
}

fn misconfigured(var: &str, value: &str) -> RelayError {
    RelayError::Misconfigured {
        reason: format!("Worker var {var}: cannot use {value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;
    use wharf_relay_rules::Hop;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }
    }

    /// `wrangler.toml` sets exactly the vars [`Settings`] reads, and every one of them parses.
    #[test]
    fn wrangler_toml_matches_the_settings() {
        let toml = include_str!("../wrangler.toml");
        let vars_section = toml.split("[vars]").nth(1).expect("a [vars] section");
        let pairs: Vec<(String, String)> = vars_section
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                (k.trim().to_owned(), v.trim().trim_matches('"').to_owned())
            })
            .collect();
        let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "ALLOW_HOSTS",
                "ALLOW_ORIGINS",
                "ALLOW_PUBLIC_HOSTS",
                "MAX_REDIRECTS"
            ]
        );
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Settings::from_vars(vars(&pairs)).expect("wrangler.toml's vars parse");
        #[cfg(not(target_arch = "wasm32"))]
        assert!(toml.contains(&format!(
            "compatibility_date = \"{}\"",
            crate::launch::COMPATIBILITY_DATE
        )));
    }

    #[test]
    fn reads_lists_like_the_flags() {
        let settings = Settings::from_vars(vars(&[
            (
                "ALLOW_HOSTS",
                "http://127.0.0.1:5000, http://localhost:6000",
            ),
            ("ALLOW_ORIGINS", "https://page.example"),
            ("MAX_REDIRECTS", " 3 "),
        ]))
        .expect("valid");
        assert_eq!(settings.max_redirects, 3);
        assert_eq!(settings.origins.len(), 1);
        let allowed = Url::parse("http://127.0.0.1:5000/v2/").unwrap();
        assert!(settings.policy.check(&allowed, Hop::Client).is_ok());
        let other = Url::parse("http://127.0.0.1:5001/v2/").unwrap();
        assert!(settings.policy.check(&other, Hop::Client).is_err());
    }

    #[test]
    fn unset_vars_give_the_defaults_and_bad_ones_a_refusal() {
        let settings = Settings::from_vars(vars(&[])).expect("defaults");
        assert_eq!(settings.max_redirects, DEFAULT_MAX_REDIRECTS);
        let hub = Url::parse("https://registry-1.docker.io/v2/").unwrap();
        assert!(settings.policy.check(&hub, Hop::Client).is_ok());
        for (name, value) in [
            ("ALLOW_HOSTS", "ftp://x"),
            ("ALLOW_ORIGINS", "https://page.example/path"),
            ("MAX_REDIRECTS", "many"),
        ] {
            match Settings::from_vars(vars(&[(name, value)])) {
                Err(RelayError::Misconfigured { reason }) => {
                    assert!(reason.contains(name) && reason.contains(value), "{reason}")
                }
                other => panic!("{name}={value:?} gave {other:?}"),
            }
        }
    }
}

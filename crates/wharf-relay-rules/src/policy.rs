//! Which upstream URLs the relay may fetch: the built-in allowlist of public registries (and the hosts they
//! send tokens and blobs from) plus the operator's `--allow-host` entries.
//!
//! Checks run on the `url::Url` that is handed to the HTTP client, i.e. after the WHATWG normalisation that
//! turns `http://2130706433/`, `http://0x7f.1/` or `http://127.1/` into `127.0.0.1`: what is checked is what
//! will be connected to. Names are checked again on their resolved addresses by [`crate::resolve`].

use crate::error::RelayError;
use crate::ipclass;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use url::{Host, Url};

#[cfg(test)]
mod tests;

/// Upstream scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn of(url: &Url) -> Option<Self> {
        match url.scheme() {
            "http" => Some(Self::Http),
            "https" => Some(Self::Https),
            _ => None,
        }
    }
}

/// One `--allow-host` entry: `host` (https, port 443), `host:port` (https) or `http://host:port`
/// (`https://host:port` is accepted too). Hosts named here may resolve to loopback or private addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowHost {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl AllowHost {
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// Canonical host: lowercase, no trailing dot, IPv6 in brackets, IPv4 in dotted decimal.
    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        self.scheme == scheme && self.host == host && self.port == port
    }
}

impl fmt::Display for AllowHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// Why an `--allow-host` value was rejected.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed host {value:?}: {reason}")]
pub struct AllowHostError {
    value: String,
    reason: &'static str,
}

impl FromStr for AllowHost {
    type Err = AllowHostError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let err = |reason| AllowHostError {
            value: value.to_owned(),
            reason,
        };
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(err("empty"));
        }
        // Parse with the same URL parser that parses targets, so both sides normalise alike.
        let text = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let url =
            Url::parse(&text).map_err(|_| err("not a host, host:port or http://host:port"))?;
        let scheme = Scheme::of(&url).ok_or_else(|| err("scheme must be http or https"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("userinfo is not allowed"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(err("path, query and fragment are not allowed"));
        }
        let host = canonical_host(&url).ok_or_else(|| err("no host"))?;
        let port = url.port_or_known_default().ok_or_else(|| err("no port"))?;
        Ok(Self { scheme, host, port })
    }
}

/// Whether the URL came from the client or from an upstream `Location` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    Client,
    Redirect,
}

/// A built-in allowlist entry: a host pattern where `*` matches within one label, reachable over https
/// on port 443 only, and only at public addresses.
struct Builtin {
    pattern: &'static str,
    /// Shared hosting (S3, CloudFront, Google Cloud Storage) serves anyone's files: reachable only as a
    /// redirect hop from a registry, never as a target the client names, so the relay is no open proxy
    /// for them.
    redirect_only: bool,
}

const fn direct(pattern: &'static str) -> Builtin {
    Builtin {
        pattern,
        redirect_only: false,
    }
}

const fn redirected(pattern: &'static str) -> Builtin {
    Builtin {
        pattern,
        redirect_only: true,
    }
}

const BUILTIN: &[Builtin] = &[
    // Docker Hub: registry, token realm, blob CDNs.
    direct("registry-1.docker.io"),
    direct("auth.docker.io"),
    direct("production.cloudflare.docker.com"),
    direct("production.cloudfront.docker.com"),
    // GitHub Container Registry (token at ghcr.io/token) and its blob host.
    direct("ghcr.io"),
    direct("pkg-containers.githubusercontent.com"),
    // Quay (token at quay.io/v2/auth) and its CDNs cdn.quay.io, cdn01.quay.io, ...
    direct("quay.io"),
    direct("cdn*.quay.io"),
    // Google: gcr.io, regional gcr hosts, Artifact Registry; gcr blobs come from storage.googleapis.com.
    direct("gcr.io"),
    direct("*.gcr.io"),
    direct("*.pkg.dev"),
    redirected("storage.googleapis.com"),
    // Kubernetes: registry.k8s.io redirects to Artifact Registry (*.pkg.dev) or regional S3 buckets.
    direct("registry.k8s.io"),
    redirected("prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com"),
    // Amazon ECR Public: blobs are served from CloudFront or the ECR layer buckets on S3.
    direct("public.ecr.aws"),
    redirected("*.cloudfront.net"),
    redirected("prod-*-starport-layer-bucket.s3.*.amazonaws.com"),
    redirected("prod-*-starport-layer-bucket.s3.amazonaws.com"),
    // Microsoft Container Registry and its regional data endpoints.
    direct("mcr.microsoft.com"),
    direct("*.data.mcr.microsoft.com"),
];

/// The port every built-in host is reached on.
const HTTPS_PORT: u16 = 443;

/// The result of a successful check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Named by `--allow-host`: loopback and private addresses are reachable.
    pub explicit: bool,
}

/// The upstream allowlist.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    explicit: Vec<AllowHost>,
    /// `--allow-public-host`: allowed like the built-in hosts, on public addresses only.
    public: Vec<AllowHost>,
}

impl Policy {
    pub fn new(explicit: Vec<AllowHost>) -> Self {
        Self {
            explicit,
            public: Vec::new(),
        }
    }

    /// Adds hosts that are reachable on their scheme and port, but (unlike `--allow-host` entries) only
    /// at public addresses: a registry on the internet that is not built in.
    pub fn with_public_hosts(mut self, public: Vec<AllowHost>) -> Self {
        self.public = public;
        self
    }

    /// Checks a target (or redirect hop) before any connection is made.
    pub fn check(&self, url: &Url, hop: Hop) -> Result<Checked, RelayError> {
        let scheme_text = url.scheme().to_owned();
        let scheme = Scheme::of(url).ok_or_else(|| RelayError::SchemeNotAllowed {
            scheme: scheme_text.clone(),
            host: canonical_host(url).unwrap_or_default(),
        })?;
        let host = canonical_host(url).ok_or_else(|| RelayError::BadTarget {
            reason: "no host".to_owned(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RelayError::UserinfoNotAllowed { host });
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| RelayError::BadTarget {
                reason: "no port".to_owned(),
            })?;
        if self.explicit.iter().any(|e| e.matches(scheme, &host, port)) {
            return Ok(Checked { explicit: true });
        }
        if self.public.iter().any(|e| e.matches(scheme, &host, port)) {
            return match literal_ip(url) {
                Some(ip) if !ipclass::is_public(ip) => {
                    Err(RelayError::AddressNotAllowed { host, address: ip })
                }
                _ => Ok(Checked { explicit: false }),
            };
        }
        if !builtin_allows(&host, hop) {
            return Err(self.refusal_for_unlisted(host, scheme_text, scheme, port));
        }
        if scheme != Scheme::Https {
            return Err(RelayError::SchemeNotAllowed {
                scheme: scheme_text,
                host,
            });
        }
        if port != HTTPS_PORT {
            return Err(RelayError::PortNotAllowed { host, port });
        }
        // Built-in entries are names; an IP literal never gets here, but keep the address rule anyway.
        if let Some(ip) = literal_ip(url) {
            if !ipclass::is_public(ip) {
                return Err(RelayError::AddressNotAllowed { host, address: ip });
            }
        }
        Ok(Checked { explicit: false })
    }

    /// True when a host name (as given to the resolver) is named by `--allow-host`, on any port or scheme
    /// (the port and scheme were checked by [`Policy::check`] before the connection was attempted).
    pub fn is_explicit_name(&self, name: &str) -> bool {
        let name = canonical_name(name);
        self.explicit.iter().any(|e| e.host == name)
    }

    /// The most useful refusal for a host that no rule allows as asked.
    fn refusal_for_unlisted(
        &self,
        host: String,
        scheme_text: String,
        scheme: Scheme,
        port: u16,
    ) -> RelayError {
        let same_host: Vec<&AllowHost> = (self.explicit.iter().chain(&self.public))
            .filter(|e| e.host == host)
            .collect();
        if same_host.iter().any(|e| e.port == port) {
            RelayError::SchemeNotAllowed {
                scheme: scheme_text,
                host,
            }
        } else if same_host.iter().any(|e| e.scheme == scheme) {
            RelayError::PortNotAllowed { host, port }
        } else {
            RelayError::HostNotAllowed { host }
        }
    }
}

/// The host a URL will connect to, in canonical form; `None` without a host.
pub fn canonical_host(url: &Url) -> Option<String> {
    match url.host()? {
        Host::Domain(name) => Some(canonical_name(name)),
        Host::Ipv4(ip) => Some(ip.to_string()),
        Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

/// An IP literal host, if the URL has one.
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Domain(_) => None,
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
    }
}

/// Lowercase, one trailing dot removed (`localhost.` and `localhost` are the same host).
pub fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.strip_suffix('.') {
        Some(stripped) => stripped.to_owned(),
        None => lower,
    }
}

fn builtin_allows(host: &str, hop: Hop) -> bool {
    BUILTIN
        .iter()
        .filter(|entry| hop == Hop::Redirect || !entry.redirect_only)
        .any(|entry| pattern_matches(entry.pattern, host))
}

/// Matches a host against a pattern label by label; `*` matches any run of characters inside one label
/// (never a dot), so `*.gcr.io` matches `eu.gcr.io` but not `gcr.io` or `a.b.gcr.io`.
pub fn pattern_matches(pattern: &str, host: &str) -> bool {
    let mut pattern_labels = pattern.split('.');
    let mut host_labels = host.split('.');
    loop {
        match (pattern_labels.next(), host_labels.next()) {
            (None, None) => return true,
            (Some(p), Some(h)) if label_matches(p, h) => {}
            _ => return false,
        }
    }
}

fn label_matches(pattern: &str, label: &str) -> bool {
    if label.is_empty() {
        return false;
    }
    match pattern.split_once('*') {
        None => pattern == label,
        Some((prefix, suffix)) => {
            label.len() >= prefix.len() + suffix.len()
                && label.starts_with(prefix)
                && label.ends_with(suffix)
        }
    }
}

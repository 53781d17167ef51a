//! Docker-style image references (`alpine`, `ghcr.io/homebrew/core/vim:9.0.1900`,
//! `localhost:5000/library/alpine@sha256:…`), parsed once into a validated [`Reference`].
//!
//! Normalisation follows Docker's: a reference without a registry part, or whose first path
//! component has no `.` or `:` and is not `localhost`, names Docker Hub (`docker.io`, spoken to at
//! `registry-1.docker.io`); one-component Hub names get `library/`; the tag defaults to `latest`
//! unless a digest is given. Registries on `localhost`, `127.0.0.0/8` and `[::1]` are spoken to
//! over plain http, all others over https.
//!
//! Hand-written rather than taken from a crate: the grammar is small, the crates that parse it
//! (`oci-spec`'s `Reference`, `docker_reference`) do not give typed reasons or the scheme rule,
//! and a regex engine would add weight to the wasm build.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The registry name Docker Hub references normalise to.
pub const DOCKER_HUB: &str = "docker.io";
/// The host Docker Hub's registry API is served from.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// Longest `registry/repository` name (Docker's `NameTotalLengthMax`).
pub const MAX_NAME_LEN: usize = 255;
/// Longest tag.
pub const MAX_TAG_LEN: usize = 128;
/// The tag used when a reference names neither a tag nor a digest.
pub const DEFAULT_TAG: &str = "latest";

/// What is wrong with a reference (the `reason` of [`Error::InvalidReference`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceProblem {
    /// The input is empty.
    Empty,
    /// A bare 64-digit hex string, which Docker refuses because it reads like an image ID.
    LooksLikeImageId,
    /// A tag or digest without a repository name before it.
    MissingRepository,
    /// The repository part has uppercase letters.
    UppercaseRepository { repository: String },
    /// An empty path component (leading, trailing or doubled `/`).
    EmptyComponent { name: String },
    /// A path component outside `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    InvalidComponent { component: String },
    /// A tag outside `[\w][\w.-]{0,127}`.
    InvalidTag { tag: String },
    /// `registry/repository` is longer than 255 characters.
    NameTooLong { len: usize },
    /// The digest after `@` is malformed.
    InvalidDigest { digest: String, reason: String },
    /// The digest after `@` uses an algorithm we cannot verify.
    UnsupportedDigestAlgorithm { algorithm: String },
    /// The registry part is not a host name, IP address or port we can speak to.
    InvalidRegistry {
        registry: String,
        reason: &'static str,
    },
}

impl fmt::Display for ReferenceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ReferenceProblem as P;
        match self {
            P::Empty => f.write_str("the reference is empty"),
            P::LooksLikeImageId => f.write_str(
                "a bare 64-digit hex string is an image ID, not a repository name (add `@sha256:` \
                 after a name to pin a digest)",
            ),
            P::MissingRepository => f.write_str("there is no repository name"),
            P::UppercaseRepository { repository } => {
                write!(f, "repository name {repository:?} must be lowercase")
            }
            P::EmptyComponent { name } => write!(
                f,
                "{name:?} has an empty path component (a leading, trailing or doubled '/')"
            ),
            P::InvalidComponent { component } => write!(
                f,
                "path component {component:?} must be lowercase letters and digits, separated \
                 by '.', '_', '__' or dashes"
            ),
            P::InvalidTag { tag } => write!(
                f,
                "tag {tag:?} must be 1 to {MAX_TAG_LEN} letters, digits, '_', '.' or '-', \
                 not starting with '.' or '-'"
            ),
            P::NameTooLong { len } => write!(
                f,
                "the name is {len} characters long, more than the {MAX_NAME_LEN} allowed"
            ),
            P::InvalidDigest { digest, reason } => write!(f, "digest {digest:?}: {reason}"),
            P::UnsupportedDigestAlgorithm { algorithm } => write!(
                f,
                "digest algorithm {algorithm:?} is not supported (sha256, sha512 are)"
            ),
            P::InvalidRegistry { registry, reason } => write!(f, "registry {registry:?}: {reason}"),
        }
    }
}

type Problem<T> = std::result::Result<T, ReferenceProblem>;

/// The scheme a registry is spoken to with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated tag (`[\w][\w.-]{0,127}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tag of the referrers tag schema (OCI distribution spec 1.1), used when a registry has
    /// no referrers API: `<alg>-<hex>`, with the hex part cut to 64 characters so that sha512
    /// subjects still give a valid tag.
    pub fn referrers_fallback(subject: &Digest) -> Tag {
        let hex = subject.hex();
        let hex = hex.get(..64).unwrap_or(hex);
        Tag(format!("{}-{hex}", subject.algorithm()))
    }

    fn check(tag: &str) -> Problem<()> {
        let mut chars = tag.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if first_ok && rest_ok && tag.len() <= MAX_TAG_LEN {
            Ok(())
        } else {
            Err(ReferenceProblem::InvalidTag {
                tag: tag.to_owned(),
            })
        }
    }
}

impl FromStr for Tag {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        Tag::check(input).map_err(|reason| invalid(input, reason))?;
        Ok(Tag(input.to_owned()))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a manifest request names: the digest when the reference is pinned, else the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestTarget<'a> {
    Tag(&'a Tag),
    Digest(&'a Digest),
}

impl fmt::Display for ManifestTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestTarget::Tag(t) => t.fmt(f),
            ManifestTarget::Digest(d) => d.fmt(f),
        }
    }
}

/// What a reference names within its repository: a tag, a digest, or both (the digest pins).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pin {
    Tag(Tag),
    Digest(Digest),
    TagAndDigest(Tag, Digest),
}

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// As the user named it, normalised: `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    registry: String,
    /// Where the API is served: `registry-1.docker.io` for Docker Hub, else `registry`.
    api_host: String,
    scheme: Scheme,
    base_url: Url,
    repository: String,
    pin: Pin,
}

impl Reference {
    /// The registry as named, normalised (`docker.io` for Docker Hub, hosts lowercased).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The `host[:port]` actually spoken to (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        &self.api_host
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `<scheme>://<api host>/`, e.g. `https://registry-1.docker.io/`.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The repository path, e.g. `library/alpine`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn is_docker_hub(&self) -> bool {
        self.registry == DOCKER_HUB
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag_ref().map(Tag::as_str)
    }

    pub fn tag_ref(&self) -> Option<&Tag> {
        match &self.pin {
            Pin::Tag(t) | Pin::TagAndDigest(t, _) => Some(t),
            Pin::Digest(_) => None,
        }
    }

    pub fn digest(&self) -> Option<&Digest> {
        match &self.pin {
            Pin::Digest(d) | Pin::TagAndDigest(_, d) => Some(d),
            Pin::Tag(_) => None,
        }
    }

    /// The digest if the reference is pinned, else the tag.
    pub fn manifest_target(&self) -> ManifestTarget<'_> {
        match &self.pin {
            Pin::Digest(d) | Pin::TagAndDigest(_, d) => ManifestTarget::Digest(d),
            Pin::Tag(t) => ManifestTarget::Tag(t),
        }
    }

    /// The same repository at another tag (any digest is dropped: it would pin the old image).
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        Ok(Reference {
            pin: Pin::Tag(tag.parse()?),
            ..self.clone()
        })
    }

    /// The same repository pinned to `digest` (a tag, if any, is kept for display).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        let pin = match self.tag_ref() {
            Some(tag) => Pin::TagAndDigest(tag.clone(), digest),
            None => Pin::Digest(digest),
        };
        Reference {
            pin,
            ..self.clone()
        }
    }

    /// The short form Docker prints: `alpine:latest`, `user/app:1`, `ghcr.io/x/y:2`.
    pub fn familiar(&self) -> String {
        let name = match (self.is_docker_hub(), &self.repository) {
            (true, repo) => repo
                .strip_prefix("library/")
                .filter(|rest| !rest.contains('/'))
                .unwrap_or(repo)
                .to_owned(),
            (false, repo) => format!("{}/{repo}", self.registry),
        };
        format!("{name}{}", self.suffix())
    }

    fn suffix(&self) -> String {
        let mut out = String::new();
        if let Some(tag) = self.tag_ref() {
            out.push(':');
            out.push_str(tag.as_str());
        }
        if let Some(digest) = self.digest() {
            out.push('@');
            out.push_str(&digest.to_string());
        }
        out
    }
}

fn invalid(input: &str, reason: ReferenceProblem) -> Error {
    Error::InvalidReference {
        input: input.to_owned(),
        reason,
    }
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        parse(input).map_err(|reason| invalid(input, reason))
    }
}

fn parse(input: &str) -> Problem<Reference> {
    if input.is_empty() {
        return Err(ReferenceProblem::Empty);
    }
    // Split off and check the digest first: an unknown algorithm is refused before anything else.
    let (rest, digest) = match input.split_once('@') {
        Some((rest, digest)) => (rest, Some(parse_digest(digest)?)),
        None => (input, None),
    };
    if input.len() == 64 && input.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(ReferenceProblem::LooksLikeImageId);
    }
    let (name, tag) = split_tag(rest);
    let tag = match tag {
        Some(t) => Some(Tag::check(t).map(|()| Tag(t.to_owned()))?),
        None => None,
    };
    let pin = match (tag, digest) {
        (Some(t), Some(d)) => Pin::TagAndDigest(t, d),
        (None, Some(d)) => Pin::Digest(d),
        (Some(t), None) => Pin::Tag(t),
        (None, None) => Pin::Tag(Tag(DEFAULT_TAG.to_owned())),
    };
    if name.is_empty() {
        return Err(ReferenceProblem::MissingRepository);
    }
    let (registry, remote) = split_registry(name);
    let host = host::parse_registry(registry)?;
    let repository = parse_repository(&host.name, remote)?;
    let len = host.name.len() + 1 + repository.len();
    if len > MAX_NAME_LEN {
        return Err(ReferenceProblem::NameTooLong { len });
    }
    Ok(Reference {
        registry: host.name,
        api_host: host.api_host,
        scheme: host.scheme,
        base_url: host.base_url,
        repository,
        pin,
    })
}

fn parse_digest(text: &str) -> Problem<Digest> {
    text.parse::<Digest>().map_err(|e| match e {
        Error::UnsupportedAlgorithm { algorithm } => {
            ReferenceProblem::UnsupportedDigestAlgorithm { algorithm }
        }
        Error::InvalidDigest { reason, .. } => ReferenceProblem::InvalidDigest {
            digest: text.to_owned(),
            reason,
        },
        other => ReferenceProblem::InvalidDigest {
            digest: text.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// Splits `name[:tag]`; the tag's `:` is the first one after the last `/` (a registry port's
/// `:` comes before it).
fn split_tag(text: &str) -> (&str, Option<&str>) {
    let last_slash = text.rfind('/').map_or(0, |i| i + 1);
    let colon = text
        .get(last_slash..)
        .and_then(|tail| tail.find(':'))
        .map(|i| last_slash + i);
    match colon.map(|c| (text.get(..c), text.get(c + 1..))) {
        Some((Some(name), Some(tag))) => (name, Some(tag)),
        _ => (text, None),
    }
}

/// Docker's `splitDockerDomain`: the first component is a registry if it has a `.` or `:`, or is
/// `localhost`. (Unlike recent Docker, a dotless uppercase first component is not taken for a
/// registry: `Library/alpine` is reported as an uppercase repository, which is the likelier typo.)
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn parse_repository(registry: &str, remote: &str) -> Problem<String> {
    if remote.is_empty() {
        return Err(ReferenceProblem::MissingRepository);
    }
    if remote.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(ReferenceProblem::UppercaseRepository {
            repository: remote.to_owned(),
        });
    }
    for component in remote.split('/') {
        if component.is_empty() {
            return Err(ReferenceProblem::EmptyComponent {
                name: remote.to_owned(),
            });
        }
        if !valid_component(component) {
            return Err(ReferenceProblem::InvalidComponent {
                component: component.to_owned(),
            });
        }
    }
    if registry == DOCKER_HUB && !remote.contains('/') {
        Ok(format!("library/{remote}"))
    } else {
        Ok(remote.to_owned())
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut chars = component.chars().peekable();
    loop {
        let mut run = 0;
        while chars.next_if(|&c| alnum(c)).is_some() {
            run += 1;
        }
        if run == 0 {
            return false;
        }
        match chars.next() {
            None => return true,
            Some('.') => {}
            Some('_') => {
                chars.next_if_eq(&'_');
            }
            Some('-') => while chars.next_if_eq(&'-').is_some() {},
            Some(_) => return false,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.registry, self.repository, self.suffix())
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

mod host;

#[cfg(test)]
mod tests;

//! Platforms (`os[(os.version)]/arch[/variant]`) and the entries of an image index.
//!
//! The text form is containerd's: `linux/arm64/v8`, and with an `os.version`
//! `windows(10.0.17763.5936)/amd64`, so that two entries that differ only in `os.version` (as
//! Windows images do) stay apart in a choice and in the page's `?platform=`.
//!
//! A [`Platform`] keeps the values as a document or a user wrote them; comparisons go through
//! [`Platform::normalized`], which applies containerd's normalisation rules:
//!
//! | written                          | normalised                  |
//! | -------------------------------- | --------------------------- |
//! | os `macos`, any case             | `darwin`, lowercase         |
//! | `x86_64`, `x86-64`               | `amd64` (variant `v1` -> none) |
//! | `aarch64`                        | `arm64`                     |
//! | `arm64` variant `8`/`v8`/`v8.0`  | `arm64` without variant (v8 is the default) |
//! | `i386`                           | `386`, no variant           |
//! | `armhf`                          | `arm/v7`                    |
//! | `armel`                          | `arm/v6`                    |
//! | `arm` without variant, or `7`    | `arm/v7` (v7 is the default)|
//! | `arm` variant `5`/`6`/`8`        | `v5`/`v6`/`v8`              |
//!
//! So `linux/arm64` and `linux/arm64/v8` are the same platform, and so are `linux/arm` and
//! `linux/arm/v7`; `linux/arm/v6` is not `linux/arm/v7`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{null_default, Descriptor, Index};

/// The platform of an image: what `platform` holds in an index entry, or what a user asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    // Lenient: a missing `architecture`/`os` (seen in hand-made indexes) reads as "", and such an
    // entry is listed as not runnable instead of failing the whole index.
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            variant: variant.map(str::to_owned),
            ..Platform::default()
        }
    }

    /// The canonical form used for comparisons (see the module documentation).
    pub fn normalized(&self) -> Platform {
        let os = self.os.to_ascii_lowercase();
        let os = if os == "macos" { "darwin".into() } else { os };
        let (architecture, variant) = normalize_arch(&self.architecture, self.variant.as_deref());
        Platform {
            architecture,
            os,
            variant,
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
        }
    }

    /// Whether `self` and `other` name the same os, architecture and variant once normalised
    /// (`os.version` and `os.features` are not compared here).
    pub fn same_target(&self, other: &Platform) -> bool {
        let (a, b) = (self.normalized(), other.normalized());
        a.os == b.os && a.architecture == b.architecture && a.variant == b.variant
    }

    /// The same platform without its `os.version` (what a table column of `os/arch` shows).
    pub fn without_os_version(&self) -> Platform {
        Platform {
            os_version: None,
            ..self.clone()
        }
    }

    /// `unknown/unknown`, as BuildKit writes for attestation manifests.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" || self.architecture == "unknown"
    }
}

fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.map(str::to_ascii_lowercase).unwrap_or_default();
    let (arch, variant): (&str, String) = match (arch.as_str(), variant.as_str()) {
        ("i386", _) => ("386", String::new()),
        ("x86_64" | "x86-64" | "amd64", "v1") => ("amd64", String::new()),
        ("x86_64" | "x86-64" | "amd64", v) => ("amd64", v.to_owned()),
        ("aarch64" | "arm64", "8" | "v8" | "v8.0") => ("arm64", String::new()),
        ("aarch64" | "arm64", v) => ("arm64", v.to_owned()),
        ("armhf", _) => ("arm", "v7".into()),
        ("armel", _) => ("arm", "v6".into()),
        ("arm", "" | "7") => ("arm", "v7".into()),
        ("arm", v @ ("5" | "6" | "8")) => ("arm", format!("v{v}")),
        (a, v) => (a, v.to_owned()),
    };
    let variant = (!variant.is_empty()).then_some(variant);
    (arch.to_owned(), variant)
}

/// Prints `os[(os.version)]/arch[/variant]` as written (not normalised).
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.os)?;
        if let Some(version) = self.os_version.as_deref().filter(|v| !v.is_empty()) {
            write!(f, "({version})")?;
        }
        write!(f, "/{}", self.architecture)?;
        match self.variant.as_deref() {
            Some(v) if !v.is_empty() => write!(f, "/{v}"),
            _ => Ok(()),
        }
    }
}

/// Parses `os[(os.version)]/arch[/variant]`; os, architecture and variant are case-insensitive
/// (the result is lowercase but not normalised), the `os.version` is kept as written.
impl FromStr for Platform {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidPlatform {
            input: input.to_owned(),
            reason,
        };
        let parts: Vec<&str> = input.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(invalid("expected os/arch or os/arch/variant".into())),
        };
        let (os, os_version) = split_os_version(os).map_err(invalid)?;
        let lower = |part: &str| part.to_ascii_lowercase();
        let (os, arch, variant) = (lower(os), lower(arch), variant.map(lower));
        check_component("os", &os).map_err(invalid)?;
        check_component("architecture", &arch).map_err(invalid)?;
        if let Some(variant) = &variant {
            check_component("variant", variant).map_err(invalid)?;
        }
        if let Some(version) = os_version {
            check_component("os.version", version).map_err(invalid)?;
        }
        Ok(Platform {
            os_version: os_version.map(str::to_owned),
            ..Platform::new(&os, &arch, variant.as_deref())
        })
    }
}

/// `windows(10.0.17763)` into `windows` and `10.0.17763`.
fn split_os_version(os: &str) -> std::result::Result<(&str, Option<&str>), String> {
    match os.split_once('(') {
        None => Ok((os, None)),
        Some((name, rest)) => match rest.strip_suffix(')') {
            Some(version) => Ok((name, Some(version))),
            None => Err("the os.version must be closed by ')' before the '/'".into()),
        },
    }
}

fn check_component(what: &str, part: &str) -> std::result::Result<(), String> {
    if part.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    match part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        Some(c) => Err(format!("{c:?} is not allowed in the {what}")),
        None => Ok(()),
    }
}

/// What an index entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// An image for a platform: offered to the user.
    Runnable,
    /// A BuildKit attestation manifest (`unknown/unknown`, annotation
    /// `vnd.docker.reference.type: attestation-manifest`): listed, never selected.
    Attestation,
    /// An index (or Docker manifest list) inside the index.
    NestedIndex,
    /// An artifact: an `artifactType`, or a media type that is no image manifest.
    Artifact,
    /// An image manifest without a usable platform (none, partial, or `unknown/unknown`).
    NoPlatform,
}

impl EntryKind {
    /// What the page calls an entry it does not offer (None for a runnable image).
    pub fn label(self) -> Option<&'static str> {
        match self {
            EntryKind::Runnable => None,
            EntryKind::Attestation => Some("attestation"),
            EntryKind::NestedIndex => Some("nested index"),
            EntryKind::Artifact => Some("artifact"),
            EntryKind::NoPlatform => Some("no platform"),
        }
    }
}

/// Annotation BuildKit puts on attestation entries.
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// Its value for attestation manifests.
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";

/// One entry of an index, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Position in the index's `manifests`.
    pub position: usize,
    pub descriptor: &'a Descriptor,
    pub platform: Option<&'a Platform>,
    pub kind: EntryKind,
}

impl Entry<'_> {
    pub fn is_runnable(&self) -> bool {
        self.kind == EntryKind::Runnable
    }
}

/// Lists the entries of an index, in order, each with its kind.
pub fn entries(index: &Index) -> Vec<Entry<'_>> {
    index
        .manifests
        .iter()
        .enumerate()
        .map(|(position, descriptor)| Entry {
            position,
            descriptor,
            platform: descriptor.platform.as_ref(),
            kind: classify(descriptor),
        })
        .collect()
}

fn classify(descriptor: &Descriptor) -> EntryKind {
    let reference_type = descriptor
        .annotations
        .get(REFERENCE_TYPE)
        .map(String::as_str);
    if reference_type == Some(ATTESTATION_MANIFEST) {
        return EntryKind::Attestation;
    }
    use crate::manifest::{DOCKER_LIST, DOCKER_V2, OCI_INDEX, OCI_MANIFEST};
    let image_type = match descriptor.media_type.as_deref() {
        Some(OCI_INDEX | DOCKER_LIST) => return EntryKind::NestedIndex,
        // A missing mediaType is tolerated (old hand-written indexes); the fetch decides.
        None | Some(OCI_MANIFEST | DOCKER_V2) => true,
        Some(_) => false,
    };
    if !image_type || descriptor.artifact_type.is_some() {
        return EntryKind::Artifact;
    }
    let usable = |p: &Platform| !p.os.is_empty() && !p.architecture.is_empty() && !p.is_unknown();
    match descriptor.platform.as_ref() {
        Some(p) if usable(p) => EntryKind::Runnable,
        _ => EntryKind::NoPlatform,
    }
}

/// Selects the first runnable entry for `wanted`: same os, architecture and variant after
/// normalisation; if `wanted` names an `os.version` or `os.features`, those must match too.
/// Attestation and other non-runnable entries are never selected.
pub fn select<'a>(index: &'a Index, wanted: &Platform) -> Result<Entry<'a>> {
    let all = entries(index);
    let found = all
        .iter()
        .find(|e| e.is_runnable() && e.platform.is_some_and(|p| platform_matches(p, wanted)));
    match found {
        Some(entry) => Ok(*entry),
        None => Err(Error::NoMatch {
            wanted: wanted.to_string(),
            available: all
                .iter()
                .filter(|e| e.is_runnable())
                .filter_map(|e| e.platform.map(ToString::to_string))
                .collect(),
        }),
    }
}

fn platform_matches(have: &Platform, wanted: &Platform) -> bool {
    let version_ok = wanted
        .os_version
        .as_ref()
        .is_none_or(|v| have.os_version.as_ref() == Some(v));
    let features_ok = wanted
        .os_features
        .iter()
        .all(|f| have.os_features.contains(f));
    have.same_target(wanted) && version_ok && features_ok
}

#[cfg(test)]
mod tests;

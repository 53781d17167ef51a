//! Homebrew bottles on GHCR (`ghcr.io/homebrew/core/<formula>:<version>`).
//!
//! A bottle index is an OCI index whose entries carry `sh.brew.bottle.digest` (the bottle's
//! sha256, bare hex), `sh.brew.bottle.size` and `org.opencontainers.image.ref.name`
//! = `<version>.<bottle tag>[.<rebuild>]` (Homebrew's `GitHubPackages.version_rebuild`). For
//! each entry we give the bottle tag, the OS (macOS release or Linux), the CPU, the blob digest
//! and size, and the file name `brew install` expects.
//!
//! Decisions:
//! - Bottles are selected by bottle tag or ref.name, never by platform: one index can hold two
//!   arm64 macOS entries (e.g. `arm64_tahoe` and `arm64_sonoma`).
//! - The OS comes from the bottle tag (what brew selects by); `os.version` is the fallback for a
//!   tag we do not know, and is kept as written in [`Bottle::os_version`].
//! - Entries without `sh.brew.bottle.digest` are not bottles and are left out (they still show
//!   in the platform list); an entry that has it but is malformed fails the whole index.
//! - Formula name: GHCR stores `@` as `/` and `+` as `x` (`openssl@3` -> `homebrew/core/openssl/3`).
//!   `x` cannot be mapped back, so the index's `org.opencontainers.image.title` (Homebrew writes
//!   the formula's full name there) is used when it maps to this repository; otherwise the name is
//!   derived from the repository: the path after `homebrew/core/` with `/` read as `@`, or, for
//!   other repositories, the last path component.
//! - File name: `<formula>--<version>.<tag>.bottle.tar.gz`, with `.bottle.<rebuild>.tar.gz` for a
//!   rebuild, as Homebrew's `Bottle::Filename` writes it.

use std::fmt;

use crate::digest::{Algorithm, Digest};
use crate::error::{Error, Result};
use crate::manifest::{Descriptor, Index};

pub const BOTTLE_DIGEST: &str = "sh.brew.bottle.digest";
pub const BOTTLE_SIZE: &str = "sh.brew.bottle.size";
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const TITLE: &str = "org.opencontainers.image.title";
/// Media type of a bottle blob (a gzipped tar), as Homebrew's image manifests describe it.
pub const BOTTLE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Whether any entry of `index` carries a Homebrew bottle digest.
pub fn is_bottle_index(index: &Index) -> bool {
    index
        .manifests
        .iter()
        .any(|d| d.annotations.contains_key(BOTTLE_DIGEST))
}

/// A macOS release that Homebrew has bottle tags for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacOs {
    /// `26`, `15`, …, `11`, `10.15`, `10.14`: from 11 on only the major number counts.
    pub version: &'static str,
    /// The bottle tag without CPU prefix: `big_sur`.
    pub tag: &'static str,
    /// `Big Sur`.
    pub name: &'static str,
}

const MACOS: &[MacOs] = &[
    MacOs {
        version: "26",
        tag: "tahoe",
        name: "Tahoe",
    },
    MacOs {
        version: "15",
        tag: "sequoia",
        name: "Sequoia",
    },
    MacOs {
        version: "14",
        tag: "sonoma",
        name: "Sonoma",
    },
    MacOs {
        version: "13",
        tag: "ventura",
        name: "Ventura",
    },
    MacOs {
        version: "12",
        tag: "monterey",
        name: "Monterey",
    },
    MacOs {
        version: "11",
        tag: "big_sur",
        name: "Big Sur",
    },
    MacOs {
        version: "10.15",
        tag: "catalina",
        name: "Catalina",
    },
    MacOs {
        version: "10.14",
        tag: "mojave",
        name: "Mojave",
    },
    MacOs {
        version: "10.13",
        tag: "high_sierra",
        name: "High Sierra",
    },
    MacOs {
        version: "10.12",
        tag: "sierra",
        name: "Sierra",
    },
    MacOs {
        version: "10.11",
        tag: "el_capitan",
        name: "El Capitan",
    },
];

impl MacOs {
    /// `macOS 11.7` (or `11.7`, `10.15.7`) -> Big Sur. From 11 on only the major number counts.
    pub fn from_os_version(os_version: &str) -> Option<MacOs> {
        let v = os_version.trim();
        let v = match v.get(..6) {
            Some(prefix) if prefix.eq_ignore_ascii_case("macos ") => v.get(6..).unwrap_or(""),
            _ => v,
        };
        let mut parts = v.split('.');
        let major: u32 = parts.next()?.trim().parse().ok()?;
        let key = if major >= 11 {
            major.to_string()
        } else {
            let minor: u32 = parts.next()?.trim().parse().ok()?;
            format!("{major}.{minor}")
        };
        MACOS.iter().copied().find(|m| m.version == key)
    }

    /// `big_sur` -> Big Sur (without a CPU prefix).
    pub fn from_tag(tag: &str) -> Option<MacOs> {
        MACOS.iter().copied().find(|m| m.tag == tag)
    }
}

/// What a bottle runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BottleOs {
    /// macOS; `None` for a tag and `os.version` we do not know.
    MacOs(Option<MacOs>),
    Linux,
    /// The `all` bottle (platform-independent).
    Any,
}

impl fmt::Display for BottleOs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BottleOs::MacOs(Some(m)) => write!(f, "macOS {} ({})", m.name, m.version),
            BottleOs::MacOs(None) => f.write_str("macOS"),
            BottleOs::Linux => f.write_str("Linux"),
            BottleOs::Any => f.write_str("any"),
        }
    }
}

/// The CPU a bottle is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cpu {
    Arm64,
    X86_64,
    Any,
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cpu::Arm64 => "arm64",
            Cpu::X86_64 => "x86_64",
            Cpu::Any => "any",
        })
    }
}

/// One bottle of a bottle index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bottle {
    /// Position of the entry in the index.
    pub position: usize,
    /// `9.0.1900.big_sur`.
    pub ref_name: String,
    /// `9.0.1900` (Homebrew's pkg_version).
    pub version: String,
    /// `big_sur`, `arm64_sonoma`, `x86_64_linux`, `all`.
    pub tag: String,
    /// 0 unless the bottle was rebuilt.
    pub rebuild: u32,
    pub os: BottleOs,
    /// `os.version` as the entry's platform states it (`macOS 11.7`, `Ubuntu 22.04`).
    pub os_version: Option<String>,
    pub cpu: Cpu,
    /// The bottle blob (`sh.brew.bottle.digest`).
    pub blob: Digest,
    /// Its size (`sh.brew.bottle.size`).
    pub size: u64,
    /// The index entry (the image manifest of this bottle).
    pub manifest: Descriptor,
    /// `vim--9.0.1900.big_sur.bottle.tar.gz`.
    pub file_name: String,
}

impl Bottle {
    /// A descriptor of the bottle blob, enough to download and verify it.
    pub fn blob_descriptor(&self) -> Descriptor {
        Descriptor::new(BOTTLE_LAYER, self.blob.clone(), self.size)
    }
}

/// The bottles of an index, with the formula they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BottleIndex {
    pub formula: String,
    pub bottles: Vec<Bottle>,
}

impl BottleIndex {
    /// `Ok(None)` when `index` is not a bottle index. `repository` is the image's repository
    /// path, e.g. `homebrew/core/vim`.
    pub fn from_index(index: &Index, repository: &str) -> Result<Option<BottleIndex>> {
        if !is_bottle_index(index) {
            return Ok(None);
        }
        let formula = formula_name(index, repository)?;
        let bottles = index
            .manifests
            .iter()
            .enumerate()
            .filter(|(_, d)| d.annotations.contains_key(BOTTLE_DIGEST))
            .map(|(position, d)| bottle(position, d, &formula))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(BottleIndex { formula, bottles }))
    }

    /// The bottle whose tag (`arm64_sonoma`) or full ref.name (`9.0.1900.arm64_sonoma`) is
    /// `wanted`. Never chosen by platform.
    pub fn select(&self, wanted: &str) -> Result<&Bottle> {
        self.bottles
            .iter()
            .find(|b| b.tag == wanted || b.ref_name == wanted)
            .ok_or_else(|| Error::NoMatch {
                wanted: wanted.to_owned(),
                available: self.bottles.iter().map(|b| b.tag.clone()).collect(),
            })
    }
}

fn bottle(position: usize, d: &Descriptor, formula: &str) -> Result<Bottle> {
    let ref_name = d.annotation(REF_NAME).unwrap_or_default().to_owned();
    let invalid = |reason: String| Error::InvalidBottle {
        ref_name: ref_name.clone(),
        reason,
    };
    let (version, tag, rebuild) = split_ref_name(&ref_name).map_err(invalid)?;
    let os_version = d.platform.as_ref().and_then(|p| p.os_version.clone());
    let os = bottle_os(tag, os_version.as_deref());
    let platform_arch = d.platform.as_ref().map(|p| p.normalized().architecture);
    let cpu = bottle_cpu(tag, platform_arch.as_deref()).map_err(invalid)?;
    let hex = d.annotation(BOTTLE_DIGEST).unwrap_or_default();
    let blob = Digest::new(Algorithm::Sha256, hex).map_err(|e| invalid(e.to_string()))?;
    let size = d
        .annotation(BOTTLE_SIZE)
        .ok_or_else(|| invalid(format!("no {BOTTLE_SIZE}")))?;
    let size = size
        .parse::<u64>()
        .map_err(|_| invalid(format!("{BOTTLE_SIZE} {size:?} is not a byte count")))?;
    let file_name = file_name(formula, version, tag, rebuild);
    Ok(Bottle {
        position,
        version: version.to_owned(),
        tag: tag.to_owned(),
        rebuild,
        os,
        os_version,
        cpu,
        blob,
        size,
        manifest: d.clone(),
        file_name,
        ref_name,
    })
}

/// `9.0.1900.big_sur` -> (`9.0.1900`, `big_sur`, 0); `9.0.1900.big_sur.1` -> (…, 1).
/// Bottle tags have no dots and are never all digits, so the tag is the last component that is
/// not a number.
fn split_ref_name(ref_name: &str) -> std::result::Result<(&str, &str, u32), String> {
    let (rest, last) = ref_name
        .rsplit_once('.')
        .ok_or("expected <version>.<bottle tag>")?;
    let (rest, tag, rebuild) = match last.parse::<u32>() {
        Ok(rebuild) => {
            let (version, tag) = rest
                .rsplit_once('.')
                .ok_or("expected <version>.<bottle tag>.<rebuild>")?;
            (version, tag, rebuild)
        }
        Err(_) => (rest, last, 0),
    };
    let tag_ok = !tag.is_empty()
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && tag.bytes().any(|b| b.is_ascii_lowercase());
    if !tag_ok {
        return Err(format!("{tag:?} is not a bottle tag"));
    }
    if !valid_name(rest) {
        return Err(format!("{rest:?} is not a version"));
    }
    Ok((rest, tag, rebuild))
}

fn bottle_os(tag: &str, os_version: Option<&str>) -> BottleOs {
    if tag == "all" {
        return BottleOs::Any;
    }
    if tag.ends_with("_linux") || tag == "linux" {
        return BottleOs::Linux;
    }
    let bare = tag
        .strip_prefix("arm64_")
        .or_else(|| tag.strip_prefix("x86_64_"))
        .unwrap_or(tag);
    let release = MacOs::from_tag(bare).or_else(|| os_version.and_then(MacOs::from_os_version));
    BottleOs::MacOs(release)
}

/// From the tag (`arm64_…` Apple Silicon / ARM Linux, `x86_64_…` or a bare macOS tag Intel),
/// else from the platform's architecture.
fn bottle_cpu(tag: &str, platform_arch: Option<&str>) -> std::result::Result<Cpu, String> {
    if tag == "all" {
        return Ok(Cpu::Any);
    }
    if tag.starts_with("arm64_") {
        return Ok(Cpu::Arm64);
    }
    if tag.starts_with("x86_64_") || MacOs::from_tag(tag).is_some() {
        return Ok(Cpu::X86_64);
    }
    match platform_arch {
        Some("arm64") => Ok(Cpu::Arm64),
        Some("amd64") => Ok(Cpu::X86_64),
        other => Err(format!(
            "cannot tell the CPU of tag {tag:?} (platform {other:?})"
        )),
    }
}

fn file_name(formula: &str, version: &str, tag: &str, rebuild: u32) -> String {
    match rebuild {
        0 => format!("{formula}--{version}.{tag}.bottle.tar.gz"),
        n => format!("{formula}--{version}.{tag}.bottle.{n}.tar.gz"),
    }
}

/// Homebrew's `image_formula_name`: how a formula name is stored in a repository path.
fn image_name(formula: &str) -> String {
    formula.replace('@', "/").replace('+', "x")
}

fn formula_name(index: &Index, repository: &str) -> Result<String> {
    let from_title = index
        .annotations
        .get(TITLE)
        .and_then(|t| t.rsplit('/').next())
        .filter(|f| valid_name(f))
        .filter(|f| {
            let stored = format!("/{}", image_name(f));
            format!("/{repository}").ends_with(&stored)
        });
    let name = match from_title {
        Some(f) => f.to_owned(),
        None => match repository.strip_prefix("homebrew/core/") {
            Some(rest) => rest.replace('/', "@"),
            None => repository.rsplit('/').next().unwrap_or_default().to_owned(),
        },
    };
    if valid_name(&name) {
        Ok(name)
    } else {
        Err(Error::InvalidBottle {
            ref_name: repository.to_owned(),
            reason: format!("cannot derive a formula name (got {name:?})"),
        })
    }
}

/// A formula name or version that is safe in a file name: `[A-Za-z0-9@+._-]`, not starting
/// with `.` or `-`.
fn valid_name(s: &str) -> bool {
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '.' | '_' | '-'))
}

#[cfg(test)]
mod tests;

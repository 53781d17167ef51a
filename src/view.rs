//! What the page shows about a looked-up reference: plain values built from `wharf-oci`'s
//! documents once, at the boundary, so that components only render.

use wharf_oci::{Digest, Reference};

/// The result of looking up a reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Looked {
    /// The reference as looked up (for an index entry: pinned to the entry's digest).
    pub reference: Reference,
    /// The digest of the document the registry served.
    pub digest: Digest,
    pub media_type: String,
    /// Every document fetched for this view, for the raw JSON panel.
    pub raw: Vec<RawDoc>,
    pub kind: LookedKind,
}

impl Looked {
    /// The manifest whose referrers the view lists: the image's (for an index entry, the
    /// entry's), or the index's.
    pub fn subject(&self) -> &Digest {
        match &self.kind {
            LookedKind::Image(image) => &image.manifest_digest,
            _ => &self.digest,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawDoc {
    pub title: String,
    pub json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LookedKind {
    /// A multi-platform index.
    Platforms(Vec<PlatformRow>),
    /// A Homebrew bottle index.
    Bottles(Vec<BottleRow>),
    /// One image (or artifact) manifest.
    Image(Box<ImageView>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlatformRow {
    pub digest: Digest,
    /// `os/arch[/variant]`, `unknown/unknown` for attestations, `unknown` without a platform.
    pub platform: String,
    /// What choosing the row asks for (`?platform=`): the platform with its `os.version`, as
    /// `windows(10.0.17763.5936)/amd64`, so that entries differing only in it stay apart.
    pub choice: String,
    pub os_version: Option<String>,
    pub media_type: String,
    pub size: u64,
    /// Why the entry is shown but not offered ("attestation", "nested index", "artifact",
    /// "no platform"); None for an image the user may choose.
    pub not_offered: Option<&'static str>,
    /// Whether the entry can go into an archive (an image or an attestation), and whether its box
    /// is ticked at first (images: yes, attestations: no); None for entries that cannot.
    pub in_archive: Option<bool>,
    /// For an attestation: the entry it attests (its digest and choice), when the index has it.
    pub attests: Option<(Digest, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BottleRow {
    /// `big_sur`, `arm64_sonoma`, `x86_64_linux`…
    pub tag: String,
    /// "macOS Big Sur (11)" or "Linux".
    pub system: String,
    pub cpu: String,
    /// The bottle blob itself (what brew downloads).
    pub blob: Digest,
    pub size: Option<u64>,
    /// The per-bottle manifest the index entry points at.
    pub manifest: Digest,
    /// `vim--9.0.1900.big_sur.bottle.tar.gz`
    pub file_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageView {
    /// The platform chosen in an index, if this manifest was reached through one.
    pub platform: Option<String>,
    pub config: Option<ConfigSummary>,
    pub config_blob: Option<Blob>,
    pub layers: Vec<Blob>,
    /// For schema 1 images: the parallel `fsLayers`/`history` entries, bottom first.
    pub schema1: Vec<Schema1Row>,
    /// `artifactType` or a non-image config media type.
    pub artifact_type: Option<String>,
    /// Suggested file name stem for a whole-image archive.
    pub archive_stem: String,
    /// The digest of this image's manifest (for an index entry: the entry's), which pins it
    /// for **Save image**.
    pub manifest_digest: Digest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub digest: Digest,
    pub media_type: String,
    /// Unknown for schema 1 layers until the registry says (HEAD).
    pub size: Option<u64>,
    /// Foreign layers name where they live.
    pub urls: Vec<String>,
    pub file_name: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfigSummary {
    pub os_arch: String,
    pub created: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub history: Vec<HistoryRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub created: Option<String>,
    pub created_by: String,
    pub empty_layer: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schema1Row {
    pub id: String,
    pub blob: Digest,
    pub created: Option<String>,
    pub command: String,
    pub empty: bool,
}

/// A failure, said for people: what happened, and what they can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub title: String,
    pub detail: String,
    pub remedy: Remedy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    Nothing,
    /// The registry wants credentials (or others): open the credentials form for this host.
    Credentials {
        host: String,
    },
    /// The name or tag is unknown: the Tags view may help.
    Tags,
    /// The relay looks unreachable or misconfigured.
    RelaySettings,
    /// Rate limited: try again later.
    Wait {
        seconds: Option<u64>,
    },
}

/// Formats a byte count for people: `13.0 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Formats a duration in seconds: `42 s`, `3 min 5 s`, `1 h 2 min`.
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_table() {
        for (n, want) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (13_598_246, "13.0 MiB"),
            (1 << 30, "1.0 GiB"),
            (10 * (1u64 << 30) + (1 << 29), "10.5 GiB"),
        ] {
            assert_eq!(human_bytes(n), want, "{n}");
        }
    }

    #[test]
    fn durations_table() {
        for (s, want) in [
            (0.2, "0 s"),
            (59.4, "59 s"),
            (185.0, "3 min 5 s"),
            (3720.0, "1 h 2 min"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }
}

/// **Check through another relay**: the same reference asked again through a second relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayCheck {
    /// The relay asked (as the setting wrote it).
    pub relay: String,
    /// The digest the page's own relay served.
    pub ours: Digest,
    pub outcome: CheckOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Checking,
    /// The second relay served the same digest.
    Agree,
    /// It served another one: saving stops for this view.
    Disagree {
        theirs: Digest,
    },
    /// It could not be asked (unreachable, refused...): nothing is known.
    Failed {
        message: String,
    },
}

impl RelayCheck {
    pub fn disagrees(&self) -> bool {
        matches!(self.outcome, CheckOutcome::Disagree { .. })
    }
}

//! Looking up a reference: fetch the manifest (and, for a chosen platform, the entry's
//! manifest and the image config), then turn the documents into view values once.

use wharf_oci::bottle::{Bottle, BottleIndex};
use wharf_oci::manifest::{Descriptor, Fetched, ImageConfig, ImageManifest, Manifest, Schema1};
use wharf_oci::platform::{self, Platform};
use wharf_oci::{Digest, Reference};

use crate::net::{IoError, RegistryClient};
use crate::view::{
    Blob, BottleRow, ConfigSummary, HistoryRow, ImageView, Looked, LookedKind, PlatformRow, RawDoc,
    Schema1Row,
};

/// Largest image config read into memory.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// What the user chose inside an index (from a click or from the address bar).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Choice {
    pub platform: Option<Platform>,
}

pub async fn lookup(
    client: &RegistryClient,
    reference: &Reference,
    choice: &Choice,
) -> Result<Looked, IoError> {
    let top = client.manifest(reference).await?;
    let mut raw = vec![raw_doc(&top, "Manifest")];
    let kind = match (&top.manifest, &choice.platform) {
        (Manifest::Index(index), chosen) => {
            if let Some(bottles) = BottleIndex::from_index(index, reference.repository())? {
                LookedKind::Bottles(bottles.bottles.iter().map(bottle_row).collect())
            } else if let Some(wanted) = chosen {
                let entry = platform::select(index, wanted)?;
                let child = client
                    .manifest_by_digest(reference, &entry.descriptor.digest)
                    .await?;
                raw.push(raw_doc(&child, &format!("Manifest for {wanted}")));
                let platform = entry.platform.map(ToString::to_string);
                image_kind(client, reference, &child, platform, &mut raw).await?
            } else {
                let entries = platform::entries(index);
                let rows = entries.iter().map(|e| platform_row(e, &entries));
                LookedKind::Platforms(rows.collect())
            }
        }
        _ => image_kind(client, reference, &top, None, &mut raw).await?,
    };
    Ok(Looked {
        reference: reference.clone(),
        digest: top.digest.clone(),
        media_type: top.media_type().to_owned(),
        raw,
        kind,
    })
}

async fn image_kind(
    client: &RegistryClient,
    reference: &Reference,
    fetched: &Fetched,
    platform: Option<String>,
    raw: &mut Vec<RawDoc>,
) -> Result<LookedKind, IoError> {
    let view = match &fetched.manifest {
        Manifest::Image(manifest) => {
            let config = fetch_config(client, reference, manifest, raw).await?;
            image_view(
                reference,
                manifest,
                config.as_ref(),
                platform,
                &fetched.digest,
            )
        }
        Manifest::Schema1(schema1) => schema1_view(reference, schema1, &fetched.digest),
        Manifest::Index(_) => {
            return Err(IoError::Protocol {
                message: "an index entry is itself an index; nested indexes are not supported"
                    .into(),
            })
        }
    };
    Ok(LookedKind::Image(Box::new(view)))
}

/// The image config, when the manifest's config is one (artifacts have other config types).
async fn fetch_config(
    client: &RegistryClient,
    reference: &Reference,
    manifest: &ImageManifest,
    raw: &mut Vec<RawDoc>,
) -> Result<Option<ImageConfig>, IoError> {
    let c = &manifest.config;
    if manifest.is_artifact() || c.size > MAX_CONFIG_BYTES {
        return Ok(None);
    }
    let bytes = client
        .blob_bytes(reference, &c.digest, c.size, MAX_CONFIG_BYTES)
        .await?;
    raw.push(RawDoc {
        title: format!("Config {}", short(&c.digest)),
        json: pretty(&bytes),
    });
    Ok(ImageConfig::from_json(&bytes).ok())
}

fn image_view(
    reference: &Reference,
    manifest: &ImageManifest,
    config: Option<&ImageConfig>,
    platform: Option<String>,
    manifest_digest: &Digest,
) -> ImageView {
    let platform = platform.or_else(|| config.map(|c| c.platform().to_string()));
    ImageView {
        manifest_digest: manifest_digest.clone(),
        archive_stem: archive_stem(reference, config.map(ImageConfig::platform)),
        platform,
        config: config.map(summary),
        config_blob: Some(blob(&manifest.config, "json")),
        layers: manifest
            .layers
            .iter()
            .map(|d| blob(d, extension(d.media_type_str())))
            .collect(),
        schema1: Vec::new(),
        artifact_type: manifest.artifact_type().map(str::to_owned),
    }
}

fn schema1_view(reference: &Reference, s: &Schema1, manifest_digest: &Digest) -> ImageView {
    let config = s.config().ok();
    let rows = s.layers().iter().map(|l| Schema1Row {
        id: l.v1.id.clone(),
        blob: l.blob_sum.clone(),
        created: l.v1.created.clone(),
        command: l.v1.cmd.join(" "),
        empty: l.is_empty_blob() || l.v1.throwaway,
    });
    let mut seen = std::collections::BTreeSet::new();
    let layers = s
        .layers()
        .iter()
        .filter(|l| seen.insert(l.blob_sum.clone()))
        .map(|l| Blob {
            digest: l.blob_sum.clone(),
            media_type: "application/vnd.docker.image.rootfs.diff.tar.gzip".into(),
            size: None,
            urls: Vec::new(),
            file_name: format!("{}.tar.gz", l.blob_sum.hex()),
        });
    ImageView {
        platform: Some(s.platform().to_string()),
        config: config.as_ref().map(summary),
        config_blob: None,
        layers: layers.collect(),
        schema1: rows.collect(),
        artifact_type: None,
        archive_stem: archive_stem(reference, Some(s.platform())),
        manifest_digest: manifest_digest.clone(),
    }
}

fn summary(c: &ImageConfig) -> ConfigSummary {
    let history = c.history.iter().map(|h| HistoryRow {
        created: h.created.clone(),
        created_by: h.created_by.clone().unwrap_or_default(),
        empty_layer: h.empty_layer,
    });
    ConfigSummary {
        os_arch: c.platform().to_string(),
        created: c.created.clone(),
        entrypoint: c.config.entrypoint.clone(),
        cmd: c.config.cmd.clone(),
        env: c.config.env.clone(),
        labels: c
            .config
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        working_dir: c.config.working_dir.clone().filter(|w| !w.is_empty()),
        history: history.collect(),
    }
}

/// Annotation on an attestation entry: the digest of the image it attests.
const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";

fn platform_row(entry: &platform::Entry<'_>, all: &[platform::Entry<'_>]) -> PlatformRow {
    let d = entry.descriptor;
    let attests = d
        .annotation(REFERENCE_DIGEST)
        .filter(|_| entry.kind == platform::EntryKind::Attestation)
        .and_then(|subject| {
            all.iter()
                .find(|e| e.descriptor.digest.to_string() == subject)
        })
        .map(|subject| {
            let choice = subject
                .platform
                .map_or_else(|| "unknown".into(), ToString::to_string);
            (subject.descriptor.digest.clone(), choice)
        });
    let in_archive = match entry.kind {
        platform::EntryKind::Runnable => Some(true),
        platform::EntryKind::Attestation => Some(false),
        _ => None,
    };
    PlatformRow {
        attests,
        in_archive,
        digest: d.digest.clone(),
        platform: entry
            .platform
            .map_or_else(|| "unknown".into(), |p| p.without_os_version().to_string()),
        choice: entry
            .platform
            .map_or_else(|| "unknown".into(), ToString::to_string),
        os_version: entry.platform.and_then(|p| p.os_version.clone()),
        media_type: d.media_type_str().to_owned(),
        size: d.size,
        not_offered: entry.kind.label(),
    }
}

fn bottle_row(b: &Bottle) -> BottleRow {
    BottleRow {
        tag: b.tag.clone(),
        system: b.os.to_string(),
        cpu: b.cpu.to_string(),
        blob: b.blob.clone(),
        size: Some(b.size),
        manifest: b.manifest.digest.clone(),
        file_name: b.file_name.clone(),
    }
}

fn blob(d: &Descriptor, extension: &str) -> Blob {
    Blob {
        digest: d.digest.clone(),
        media_type: d.media_type_str().to_owned(),
        size: Some(d.size),
        urls: d.urls.clone(),
        file_name: format!("{}.{extension}", d.digest.hex()),
    }
}

/// The file extension a layer media type calls for.
pub fn extension(media_type: &str) -> &'static str {
    if media_type.ends_with("gzip") {
        "tar.gz"
    } else if media_type.ends_with("zstd") {
        "tar.zst"
    } else if media_type.ends_with(".tar") || media_type.ends_with(".diff.tar") {
        "tar"
    } else if media_type.ends_with("json") {
        "json"
    } else {
        "bin"
    }
}

/// `<repo>_<tag>_<os>-<arch>`: the archive's file name without `.tar`.
pub fn archive_stem(reference: &Reference, platform: Option<Platform>) -> String {
    let repo = reference.repository().rsplit('/').next().unwrap_or("image");
    let tag = reference
        .tag()
        .map(str::to_owned)
        .or_else(|| {
            reference
                .digest()
                .map(|d| d.hex().chars().take(12).collect())
        })
        .unwrap_or_else(|| "latest".into());
    match platform {
        Some(p) => format!("{repo}_{tag}_{}-{}", p.os, p.architecture),
        None => format!("{repo}_{tag}"),
    }
}

fn raw_doc(fetched: &Fetched, title: &str) -> RawDoc {
    RawDoc {
        title: format!(
            "{title} ({}, {})",
            fetched.media_type(),
            short(&fetched.digest)
        ),
        json: pretty(&fetched.bytes),
    }
}

fn short(d: &Digest) -> String {
    format!("{}:{}", d.algorithm(), &d.hex()[..12.min(d.hex().len())])
}

/// Pretty-printed JSON, or the text as served when it is not JSON.
fn pretty(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_by_media_type() {
        for (mt, want) in [
            ("application/vnd.oci.image.layer.v1.tar+gzip", "tar.gz"),
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "tar.gz",
            ),
            ("application/vnd.oci.image.layer.v1.tar+zstd", "tar.zst"),
            ("application/vnd.oci.image.layer.v1.tar", "tar"),
            ("application/vnd.oci.image.config.v1+json", "json"),
            (
                "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                "tar.gz",
            ),
            ("application/octet-stream", "bin"),
        ] {
            assert_eq!(extension(mt), want, "{mt}");
        }
    }

    #[test]
    fn archive_stems() {
        let r: Reference = "localhost:5000/team/app:1.2".parse().unwrap();
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(archive_stem(&r, Some(p)), "app_1.2_linux-arm64");
        let hub: Reference = "alpine".parse().unwrap();
        assert_eq!(archive_stem(&hub, None), "alpine_latest");
    }

    #[test]
    fn schema1_fixture_view_lists_layers_bottom_first() {
        let body = include_bytes!("../crates/wharf-oci/tests/fixtures/hitch-schema1.json");
        let expected = wharf_oci::manifest::Expected::default();
        let fetched = wharf_oci::manifest::decode(None, body, &expected).unwrap();
        let Manifest::Schema1(s) = &fetched.manifest else {
            panic!("not schema 1")
        };
        let r: Reference = "library/hitch:1.8.0-1".parse().unwrap();
        let view = schema1_view(&r, s, &fetched.digest);
        assert_eq!(view.schema1.len(), s.layers().len());
        assert!(view.schema1.iter().any(|row| row.empty));
        // Unique blobs only: the empty layer appears once.
        let empties = view
            .layers
            .iter()
            .filter(|b| b.digest.to_string() == wharf_oci::manifest::EMPTY_LAYER);
        assert_eq!(empties.count(), 1);
        assert_eq!(view.archive_stem, "hitch_1.8.0-1_linux-amd64");
        assert_eq!(view.manifest_digest, fetched.digest);
    }
}

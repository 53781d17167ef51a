//! Images built through the plain API: single images with any number of layers, multi-platform
//! indexes (OCI or Docker flavour, with a BuildKit-style attestation entry), and many tags.

use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use serde_json::{json, Value};
use wharf_oci::Digest;

use crate::error::Result;
use crate::registry::Registry;
use crate::seed::{SeededBlob, SeededManifest};
use crate::tarball::gzip_tar;

/// Uploads in flight at once while seeding (loopback; the registry copes easily).
const PARALLEL_PUSHES: usize = 8;

/// Which family of media types an image uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OCI image index / manifest / config / `tar+gzip` layers.
    Oci,
    /// Docker manifest list / schema 2 / container config / `rootfs.diff.tar.gzip` layers.
    Docker,
}

impl Flavor {
    pub fn index_type(self) -> &'static str {
        match self {
            Flavor::Oci => "application/vnd.oci.image.index.v1+json",
            Flavor::Docker => "application/vnd.docker.distribution.manifest.list.v2+json",
        }
    }

    pub fn manifest_type(self) -> &'static str {
        match self {
            Flavor::Oci => "application/vnd.oci.image.manifest.v1+json",
            Flavor::Docker => "application/vnd.docker.distribution.manifest.v2+json",
        }
    }

    pub fn config_type(self) -> &'static str {
        match self {
            Flavor::Oci => "application/vnd.oci.image.config.v1+json",
            Flavor::Docker => "application/vnd.docker.container.image.v1+json",
        }
    }

    pub fn layer_type(self) -> &'static str {
        match self {
            Flavor::Oci => "application/vnd.oci.image.layer.v1.tar+gzip",
            Flavor::Docker => "application/vnd.docker.image.rootfs.diff.tar.gzip",
        }
    }
}

/// `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPlatform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// `os.version` (Windows images carry one per build).
    pub os_version: Option<String>,
}

impl SeedPlatform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> SeedPlatform {
        SeedPlatform {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant: variant.map(str::to_owned),
            os_version: None,
        }
    }

    pub fn with_os_version(self, version: &str) -> SeedPlatform {
        SeedPlatform {
            os_version: Some(version.to_owned()),
            ..self
        }
    }

    /// The `platform` object of an index entry.
    pub fn to_json(&self) -> Value {
        let mut value = json!({"architecture": self.architecture, "os": self.os});
        if let Some(variant) = &self.variant {
            value["variant"] = json!(variant);
        }
        if let Some(version) = &self.os_version {
            value["os.version"] = json!(version);
        }
        value
    }
}

impl std::fmt::Display for SeedPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match &self.variant {
            Some(variant) => write!(f, "/{variant}"),
            None => Ok(()),
        }
    }
}

/// An image the kit pushed: its manifest, config and layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededImage {
    pub manifest: SeededManifest,
    pub config: SeededBlob,
    pub layers: Vec<SeededBlob>,
    pub platform: Option<SeedPlatform>,
}

/// A multi-platform index and its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededIndex {
    pub index: SeededManifest,
    /// One image per platform, in index order.
    pub images: Vec<SeededImage>,
    /// The attestation manifest (`unknown/unknown` entry), OCI flavour only.
    pub attestation: Option<SeededImage>,
}

impl SeededIndex {
    /// The image for `os/arch[/variant]`.
    pub fn image_for(&self, platform: &str) -> Option<&SeededImage> {
        self.images.iter().find(|i| {
            i.platform
                .as_ref()
                .is_some_and(|p| p.to_string() == platform)
        })
    }
}

/// The platforms of [`Registry::push_multi_platform`].
pub fn default_platforms() -> Vec<SeedPlatform> {
    vec![
        SeedPlatform::new("linux", "amd64", None),
        SeedPlatform::new("linux", "arm64", Some("v8")),
        SeedPlatform::new("linux", "arm", Some("v7")),
    ]
}

/// The files of one layer: (path inside the image, contents).
pub type LayerFiles = Vec<(String, Vec<u8>)>;

impl Registry {
    /// Pushes an image whose layers hold `layers` (one gzip tar each); tagged `tag` when given,
    /// else pushed by digest.
    pub async fn push_image_layers(
        &self,
        repo: &str,
        tag: Option<&str>,
        flavor: Flavor,
        platform: &SeedPlatform,
        layers: &[LayerFiles],
    ) -> Result<SeededImage> {
        let mut tarballs = Vec::with_capacity(layers.len());
        let mut diff_ids = Vec::with_capacity(layers.len());
        for files in layers {
            let (gz, diff_id) = gzip_tar(files)?;
            tarballs.push(gz);
            diff_ids.push(diff_id);
        }
        let mut pushed: Vec<SeededBlob> = stream::iter(tarballs)
            .map(|gz| self.push_blob(repo, gz))
            .buffered(PARALLEL_PUSHES)
            .try_collect()
            .await?;
        for blob in &mut pushed {
            blob.media_type = flavor.layer_type().to_owned();
        }
        let config = image_config(platform, &diff_ids);
        let mut config_blob = self.push_blob(repo, serde_json::to_vec(&config)?).await?;
        config_blob.media_type = flavor.config_type().to_owned();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": flavor.manifest_type(),
            "config": config_blob.descriptor(),
            "layers": pushed.iter().map(SeededBlob::descriptor).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&manifest)?;
        let manifest = match tag {
            Some(tag) => {
                self.push_manifest(repo, tag, flavor.manifest_type(), bytes)
                    .await?
            }
            None => {
                self.push_manifest_by_digest(repo, flavor.manifest_type(), bytes)
                    .await?
            }
        };
        Ok(SeededImage {
            manifest,
            config: config_blob,
            layers: pushed,
            platform: Some(platform.clone()),
        })
    }

    /// A linux/amd64 OCI image with `layer_count` small layers (`/layers/<i>.txt`).
    pub async fn push_image(
        &self,
        repo: &str,
        tag: &str,
        layer_count: usize,
    ) -> Result<SeededImage> {
        let layers: Vec<LayerFiles> = (0..layer_count)
            .map(|i| {
                vec![(
                    format!("layers/{i}.txt"),
                    format!("layer {i} of {repo}:{tag}\n").into_bytes(),
                )]
            })
            .collect();
        let platform = SeedPlatform::new("linux", "amd64", None);
        self.push_image_layers(repo, Some(tag), Flavor::Oci, &platform, &layers)
            .await
    }

    /// A multi-platform index (linux/amd64, linux/arm64/v8, linux/arm/v7; each image holds
    /// `/etc/wharf-platform`) plus, in the OCI flavour, an attestation entry (`unknown/unknown`)
    /// for the amd64 image, as BuildKit writes it.
    pub async fn push_multi_platform(
        &self,
        repo: &str,
        tag: &str,
        flavor: Flavor,
    ) -> Result<SeededIndex> {
        let mut images = Vec::new();
        for platform in default_platforms() {
            let files = vec![
                (
                    "etc/wharf-platform".to_owned(),
                    format!("{platform}\n").into_bytes(),
                ),
                (
                    "bin/hello".to_owned(),
                    format!("#!/bin/sh\necho hello from {platform}\n").into_bytes(),
                ),
            ];
            images.push(
                self.push_image_layers(repo, None, flavor, &platform, &[files])
                    .await?,
            );
        }
        let mut entries: Vec<Value> = images.iter().map(index_entry).collect();
        let attestation = match (flavor, images.first()) {
            (Flavor::Oci, Some(subject)) => {
                let attestation = self
                    .push_attestation(repo, &subject.manifest.digest)
                    .await?;
                let mut entry = attestation.manifest.descriptor();
                entry["platform"] = json!({"architecture": "unknown", "os": "unknown"});
                entry["annotations"] = json!({
                    "vnd.docker.reference.digest": subject.manifest.digest,
                    "vnd.docker.reference.type": "attestation-manifest",
                });
                entries.push(entry);
                Some(attestation)
            }
            _ => None,
        };
        let index = self.push_index_of(repo, tag, flavor, entries).await?;
        Ok(SeededIndex {
            index,
            images,
            attestation,
        })
    }

    /// An index of `images` (in that order, each entry with its platform) under `tag`.
    pub async fn push_index(
        &self,
        repo: &str,
        tag: &str,
        flavor: Flavor,
        images: Vec<SeededImage>,
    ) -> Result<SeededIndex> {
        let entries = images.iter().map(index_entry).collect();
        let index = self.push_index_of(repo, tag, flavor, entries).await?;
        Ok(SeededIndex {
            index,
            images,
            attestation: None,
        })
    }

    async fn push_index_of(
        &self,
        repo: &str,
        tag: &str,
        flavor: Flavor,
        entries: Vec<Value>,
    ) -> Result<SeededManifest> {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": flavor.index_type(),
            "manifests": entries,
        });
        let bytes = serde_json::to_vec_pretty(&index)?;
        self.push_manifest(repo, tag, flavor.index_type(), bytes)
            .await
    }

    async fn push_attestation(&self, repo: &str, subject: &Digest) -> Result<SeededImage> {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://spdx.dev/Document",
            "subject": [{"name": format!("pkg:docker/{repo}"), "digest": {"sha256": subject.hex()}}],
            "predicate": {"spdxVersion": "SPDX-2.3", "name": "wharf-testkit"},
        });
        let mut layer = self
            .push_blob(repo, serde_json::to_vec(&statement)?)
            .await?;
        layer.media_type = "application/vnd.in-toto+json".to_owned();
        let config = json!({
            "architecture": "unknown", "os": "unknown", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
        });
        let mut config_blob = self.push_blob(repo, serde_json::to_vec(&config)?).await?;
        config_blob.media_type = Flavor::Oci.config_type().to_owned();
        let mut layer_descriptor = layer.descriptor();
        layer_descriptor["annotations"] =
            json!({"in-toto.io/predicate-type": "https://spdx.dev/Document"});
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": Flavor::Oci.manifest_type(),
            "config": config_blob.descriptor(),
            "layers": [layer_descriptor],
        });
        let bytes = serde_json::to_vec_pretty(&manifest)?;
        let manifest = self
            .push_manifest_by_digest(repo, Flavor::Oci.manifest_type(), bytes)
            .await?;
        Ok(SeededImage {
            manifest,
            config: config_blob,
            layers: vec![layer],
            platform: Some(SeedPlatform::new("unknown", "unknown", None)),
        })
    }

    /// Pushes one small image under `count` tags (`t0000`, `t0001`, ...) for pagination
    /// tests; returns the tags in push order.
    pub async fn push_tags(&self, repo: &str, count: usize) -> Result<Vec<String>> {
        let image = self.push_image(repo, "base", 1).await?;
        let tags: Vec<String> = (0..count).map(|i| format!("t{i:04}")).collect();
        let manifest = &image.manifest;
        stream::iter(&tags)
            .map(|tag| self.push_manifest(repo, tag, &manifest.media_type, manifest.bytes.clone()))
            .buffer_unordered(PARALLEL_PUSHES)
            .try_for_each(|_| async { Ok(()) })
            .await?;
        Ok(tags)
    }
}

fn image_config(platform: &SeedPlatform, diff_ids: &[Digest]) -> Value {
    let mut config = json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/hello"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": diff_ids.iter().enumerate()
            .map(|(i, _)| json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("wharf-testkit layer {i}")}))
            .collect::<Vec<_>>(),
    });
    if let Some(variant) = &platform.variant {
        config["variant"] = json!(variant);
    }
    if let Some(version) = &platform.os_version {
        config["os.version"] = json!(version);
    }
    config
}

fn index_entry(image: &SeededImage) -> Value {
    let mut entry = image.manifest.descriptor();
    if let Some(platform) = &image.platform {
        entry["platform"] = platform.to_json();
    }
    entry
}

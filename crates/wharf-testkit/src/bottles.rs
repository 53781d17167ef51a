//! A Homebrew-style bottle index, modelled on GHCR's `homebrew/core/vim:9.0.1900`
//! (fixtures/homebrew-vim-9.0.1900-index.json): one OCI image per bottle tag, whose single
//! layer is the bottle (`<formula>--<version>.<tag>.bottle.tar.gz`), and index entries with
//! `org.opencontainers.image.ref.name` = `<version>.<tag>`, `sh.brew.bottle.digest` (hex),
//! `sh.brew.bottle.size` and `sh.brew.tab`.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::images::{Flavor, SeedPlatform};
use crate::registry::Registry;
use crate::seed::{SeededBlob, SeededManifest};
use crate::tarball::gzip_tar;

/// The bottle tags of [`Registry::push_default_bottles`]: two arm64 macOS entries (tahoe and
/// sonoma), an Intel sonoma, big_sur and a Linux one.
pub const DEFAULT_BOTTLE_TAGS: &[&str] = &[
    "arm64_tahoe",
    "arm64_sonoma",
    "sonoma",
    "big_sur",
    "x86_64_linux",
];

/// One pushed bottle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededBottle {
    /// The bottle tag, e.g. `arm64_sonoma`.
    pub tag: String,
    /// `<version>.<tag>`, the entry's `org.opencontainers.image.ref.name`.
    pub ref_name: String,
    pub platform: SeedPlatform,
    /// `macOS 14`, `macOS 11.7`, or `None` on Linux.
    pub os_version: Option<String>,
    /// The bottle itself (the image's only layer).
    pub blob: SeededBlob,
    pub config: SeededBlob,
    pub manifest: SeededManifest,
    /// The file name brew expects: `<formula>--<version>.<tag>.bottle.tar.gz`.
    pub file_name: String,
    /// The `sh.brew.tab` annotation (a JSON string).
    pub tab: String,
}

/// A pushed bottle index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededBottles {
    pub formula: String,
    pub version: String,
    pub index: SeededManifest,
    pub bottles: Vec<SeededBottle>,
}

impl SeededBottles {
    pub fn bottle(&self, tag: &str) -> Option<&SeededBottle> {
        self.bottles.iter().find(|b| b.tag == tag)
    }
}

/// Platform and `os.version` of a bottle tag (None for tags we do not know).
pub fn bottle_platform(tag: &str) -> Option<(SeedPlatform, Option<String>)> {
    if let Some(arch) = tag.strip_suffix("_linux") {
        let arch = match arch {
            "x86_64" => "amd64",
            "arm64" => "arm64",
            _ => return None,
        };
        return Some((SeedPlatform::new("linux", arch, None), None));
    }
    let (arch, name) = match tag.strip_prefix("arm64_") {
        Some(name) => ("arm64", name),
        None => ("amd64", tag),
    };
    let version = match name {
        "tahoe" => "macOS 26",
        "sequoia" => "macOS 15",
        "sonoma" => "macOS 14",
        "ventura" => "macOS 13",
        "monterey" => "macOS 12",
        "big_sur" => "macOS 11.7",
        "catalina" => "macOS 10.15",
        "mojave" => "macOS 10.14",
        _ => return None,
    };
    Some((
        SeedPlatform::new("darwin", arch, None),
        Some(version.to_owned()),
    ))
}

impl Registry {
    /// `vim` 9.0.1900 with [`DEFAULT_BOTTLE_TAGS`].
    pub async fn push_default_bottles(&self, repo: &str) -> Result<SeededBottles> {
        self.push_bottles(repo, "vim", "9.0.1900", DEFAULT_BOTTLE_TAGS)
            .await
    }

    /// Pushes one bottle per tag and the index under tag `version`.
    pub async fn push_bottles(
        &self,
        repo: &str,
        formula: &str,
        version: &str,
        tags: &[&str],
    ) -> Result<SeededBottles> {
        let mut bottles = Vec::with_capacity(tags.len());
        for tag in tags {
            bottles.push(self.push_bottle(repo, formula, version, tag).await?);
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": Flavor::Oci.index_type(),
            "manifests": bottles.iter().map(bottle_entry).collect::<Vec<_>>(),
            "annotations": {
                "com.github.package.type": "homebrew_bottle",
                "org.opencontainers.image.description": format!("{formula} from the wharf test kit"),
                "org.opencontainers.image.license": "Vim",
                "org.opencontainers.image.ref.name": version,
                "org.opencontainers.image.revision": "a78712b62dd7fba03243de22c20e4858d0fd1802",
                "org.opencontainers.image.title": formula,
                "org.opencontainers.image.vendor": "homebrew",
                "org.opencontainers.image.version": version,
            },
        });
        let bytes = serde_json::to_vec_pretty(&index)?;
        let index = self
            .push_manifest(repo, version, Flavor::Oci.index_type(), bytes)
            .await?;
        Ok(SeededBottles {
            formula: formula.to_owned(),
            version: version.to_owned(),
            index,
            bottles,
        })
    }

    async fn push_bottle(
        &self,
        repo: &str,
        formula: &str,
        version: &str,
        tag: &str,
    ) -> Result<SeededBottle> {
        let (platform, os_version) = bottle_platform(tag)
            .ok_or_else(|| Error::protocol(format!("unknown bottle tag {tag}")))?;
        let file_name = format!("{formula}--{version}.{tag}.bottle.tar.gz");
        let ref_name = format!("{version}.{tag}");
        let tab = tab(formula, version, tag);
        let files = vec![
            (
                format!("{formula}/{version}/bin/{formula}"),
                format!("#!/bin/sh\necho '{formula} {version} ({tag}) from the wharf test kit'\n")
                    .into_bytes(),
            ),
            (
                format!("{formula}/{version}/INSTALL_RECEIPT.json"),
                tab.clone().into_bytes(),
            ),
        ];
        let (gz, diff_id) = gzip_tar(&files)?;
        let mut blob = self.push_blob(repo, gz).await?;
        blob.media_type = Flavor::Oci.layer_type().to_owned();
        let mut config = json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        });
        if let Some(os_version) = &os_version {
            config["os.version"] = json!(os_version);
        }
        let mut config_blob = self.push_blob(repo, serde_json::to_vec(&config)?).await?;
        config_blob.media_type = Flavor::Oci.config_type().to_owned();
        let mut layer = blob.descriptor();
        layer["annotations"] = json!({"org.opencontainers.image.title": file_name});
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": Flavor::Oci.manifest_type(),
            "config": config_blob.descriptor(),
            "layers": [layer],
            "annotations": {
                "com.github.package.type": "homebrew_bottle",
                "org.opencontainers.image.ref.name": ref_name,
                "org.opencontainers.image.title": format!("{formula} {ref_name}"),
                "org.opencontainers.image.version": version,
                "sh.brew.bottle.digest": blob.digest.hex(),
                "sh.brew.tab": tab,
            },
        });
        let bytes = serde_json::to_vec_pretty(&manifest)?;
        let manifest = self
            .push_manifest_by_digest(repo, Flavor::Oci.manifest_type(), bytes)
            .await?;
        Ok(SeededBottle {
            tag: tag.to_owned(),
            ref_name,
            platform,
            os_version,
            blob,
            config: config_blob,
            manifest,
            file_name,
            tab,
        })
    }
}

/// `sh.brew.tab`: the bottle's install receipt, as a JSON string.
fn tab(formula: &str, version: &str, tag: &str) -> String {
    let arch = if tag.starts_with("arm64") {
        "arm64"
    } else {
        "x86_64"
    };
    json!({
        "homebrew_version": "4.1.11",
        "changed_files": [format!("{formula}/{version}/bin/{formula}")],
        "compiler": "clang",
        "runtime_dependencies": [
            {"full_name": "gettext", "version": "0.21.1", "declared_directly": true},
            {"full_name": "ncurses", "version": "6.4", "declared_directly": true},
        ],
        "arch": arch,
        "built_on": {"os": if tag.ends_with("_linux") { "Linux" } else { "Macintosh" }},
    })
    .to_string()
}

fn bottle_entry(bottle: &SeededBottle) -> Value {
    let mut entry = bottle.manifest.descriptor();
    let mut platform = bottle.platform.to_json();
    if let Some(os_version) = &bottle.os_version {
        platform["os.version"] = json!(os_version);
    }
    entry["platform"] = platform;
    entry["annotations"] = json!({
        "org.opencontainers.image.ref.name": bottle.ref_name,
        "sh.brew.bottle.digest": bottle.blob.digest.hex(),
        "sh.brew.bottle.size": bottle.blob.size.to_string(),
        "sh.brew.tab": bottle.tab,
    });
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (os, architecture, os.version)
    type Want = Option<(&'static str, &'static str, Option<&'static str>)>;

    #[test]
    fn bottle_tags_map_to_platforms() {
        let cases: &[(&str, Want)] = &[
            ("arm64_tahoe", Some(("darwin", "arm64", Some("macOS 26")))),
            ("arm64_sonoma", Some(("darwin", "arm64", Some("macOS 14")))),
            ("sonoma", Some(("darwin", "amd64", Some("macOS 14")))),
            ("big_sur", Some(("darwin", "amd64", Some("macOS 11.7")))),
            ("x86_64_linux", Some(("linux", "amd64", None))),
            ("arm64_linux", Some(("linux", "arm64", None))),
            ("riscv_linux", None),
            ("windows", None),
        ];
        for (tag, want) in cases {
            let got = bottle_platform(tag);
            let got = got
                .as_ref()
                .map(|(p, v)| (p.os.as_str(), p.architecture.as_str(), v.as_deref()));
            assert_eq!(got, *want, "{tag}");
        }
    }
}

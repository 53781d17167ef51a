//! Checks of an archive of several platforms of one index, with skopeo (`--all`), umoci, podman
//! and docker.

use std::path::Path;

use serde_json::Value;
use wharf_oci::Digest;

use super::loaders::{Dockerd, Loaded, Podman};
use super::{blob_path, entries, entry, string_list, tool, tool_json, unpack_and_check, Expect};

/// One chosen entry of the index, as the registry holds it.
pub struct Chosen {
    /// `os/arch[/variant]`.
    pub platform: String,
    pub image: Expect,
    /// A runnable image (in `manifest.json`); false for an attestation.
    pub loadable: bool,
}

/// What the registry holds for the index and the chosen entries, in index order.
pub struct ExpectIndex {
    pub index_digest: Digest,
    /// The index exactly as the registry serves it.
    pub index: Vec<u8>,
    pub tag: String,
    pub repo_tag: String,
    pub chosen: Vec<Chosen>,
    /// Every entry is chosen: the archive names the registry's index itself.
    pub whole: bool,
}

/// Every check of the archive; `docker`: the combined format (with `manifest.json`).
pub fn check_platforms_archive(tar: &Path, expect: &ExpectIndex, docker: bool) {
    let work = tempfile::tempdir().expect("work dir");
    let named = check_index(tar, expect);
    let oci = format!("oci-archive:{}:{}", tar.display(), expect.tag);
    let raw = tool("skopeo", &["inspect", "--raw", &oci]);
    assert!(
        raw == named,
        "skopeo finds the archive's index under the tag"
    );

    // skopeo copies every platform, and each one unpacks with its own files.
    let all = work.path().join("all");
    let destination = format!("oci:{}:t", all.display());
    tool("skopeo", &["copy", "--all", "--quiet", &oci, &destination]);
    for (i, chosen) in expect.chosen.iter().enumerate() {
        if !chosen.loadable {
            continue;
        }
        let one = work.path().join(format!("platform-{i}"));
        copy_platform(&oci, &chosen.platform, &one);
        let place = work.path().join(format!("unpack-{i}"));
        std::fs::create_dir_all(&place).expect("unpack folder");
        unpack_and_check(&one, "t", &chosen.image, &place);
    }
    if docker {
        check_docker_side(tar, expect);
        check_loaders(tar, expect, work.path());
    }
}

/// `index.json` names one index under the tag: the registry's, or one of the chosen entries as
/// the registry's index describes them. Returns the index's bytes.
fn check_index(tar: &Path, expect: &ExpectIndex) -> Vec<u8> {
    let all = entries(tar);
    let layout: Value = serde_json::from_slice(&entry(&all, "index.json").data).expect("index");
    let named = &layout["manifests"][0];
    assert_eq!(layout["manifests"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        named["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        named["annotations"]["org.opencontainers.image.ref.name"],
        expect.tag
    );
    let digest: Digest = named["digest"]
        .as_str()
        .expect("digest")
        .parse()
        .expect("valid");
    let bytes = entry(&all, &blob_path(&digest)).data.clone();
    assert_eq!(Digest::sha256_of(&bytes), digest, "the index blob's name");
    if expect.whole {
        assert_eq!(digest, expect.index_digest, "the registry's index digest");
        assert!(bytes == expect.index, "the registry's index as served");
    } else {
        let served: Value = serde_json::from_slice(&expect.index).expect("served index");
        let wanted: Vec<&Value> = served["manifests"]
            .as_array()
            .expect("manifests")
            .iter()
            .filter(|m| {
                let digest = m["digest"].as_str().unwrap_or_default();
                expect
                    .chosen
                    .iter()
                    .any(|c| c.image.manifest_digest.to_string() == digest)
            })
            .collect();
        let written: Value = serde_json::from_slice(&bytes).expect("written index");
        let written: Vec<&Value> = written["manifests"]
            .as_array()
            .expect("list")
            .iter()
            .collect();
        assert_eq!(
            written, wanted,
            "the chosen entries as the registry lists them"
        );
    }
    for chosen in &expect.chosen {
        let manifest = entry(&all, &blob_path(&chosen.image.manifest_digest));
        assert!(manifest.data == chosen.image.manifest, "manifest as served");
        for layer in &chosen.image.layers {
            let blob = entry(&all, &blob_path(layer));
            assert_eq!(&Digest::sha256_of(&blob.data), layer, "layer file content");
        }
    }
    bytes
}

/// `skopeo copy` of one platform of the archive's index into an OCI layout (tag `t`).
fn copy_platform(oci: &str, platform: &str, into: &Path) {
    let mut parts = platform.split('/');
    let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
    let mut args = vec![
        "--override-os".to_owned(),
        os.expect("os").to_owned(),
        "--override-arch".to_owned(),
        arch.expect("arch").to_owned(),
    ];
    if let Some(variant) = variant {
        args.extend(["--override-variant".to_owned(), variant.to_owned()]);
    }
    let destination = format!("oci:{}:t", into.display());
    args.extend(["copy", "--quiet", oci, &destination].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tool("skopeo", &args);
}

/// `manifest.json`: one entry per loadable image, in index order, the first tagged; skopeo reads
/// each by its position.
fn check_docker_side(tar: &Path, expect: &ExpectIndex) {
    let all = entries(tar);
    let items: Value =
        serde_json::from_slice(&entry(&all, "manifest.json").data).expect("manifest.json");
    let loadable: Vec<&Chosen> = expect.chosen.iter().filter(|c| c.loadable).collect();
    let items = items.as_array().expect("a list");
    assert_eq!(
        items.len(),
        loadable.len(),
        "one manifest.json entry per image"
    );
    for (i, (item, chosen)) in items.iter().zip(&loadable).enumerate() {
        assert_eq!(item["Config"], blob_path(&chosen.image.config_digest));
        let tags = string_list(&item["RepoTags"]);
        let want: Vec<String> = (i == 0)
            .then(|| expect.repo_tag.clone())
            .into_iter()
            .collect();
        assert_eq!(tags, want, "RepoTags on the first image only");
        let source = format!("docker-archive:{}:@{i}", tar.display());
        let config = tool("skopeo", &["inspect", "--config", "--raw", &source]);
        assert_eq!(Digest::sha256_of(&config), chosen.image.config_digest);
        let inspected = tool_json("skopeo", &["inspect", &source]);
        assert_eq!(inspected["Architecture"], arch_of(&chosen.platform));
    }
}

fn arch_of(platform: &str) -> &str {
    platform.split('/').nth(1).unwrap_or_default()
}

/// The image's diff ids, from its config blob in the archive.
fn diff_ids(tar: &Path, config: &Digest) -> Vec<String> {
    let all = entries(tar);
    let config: Value =
        serde_json::from_slice(&entry(&all, &blob_path(config)).data).expect("config");
    string_list(&config["rootfs"]["diff_ids"])
}

/// docker loads every image (the first under its tag); podman loads the index's image for this
/// machine. Each image ID is the registry's config digest, with its layers.
fn check_loaders(tar: &Path, expect: &ExpectIndex, work: &Path) {
    let loadable: Vec<&Chosen> = expect.chosen.iter().filter(|c| c.loadable).collect();
    // Read from the tar once per image, not once per comparison.
    let layers: Vec<Vec<String>> = loadable
        .iter()
        .map(|c| diff_ids(tar, &c.image.config_digest))
        .collect();
    let matches = |loaded: &Loaded, chosen: &Chosen| {
        let i = loadable.iter().position(|c| std::ptr::eq(*c, chosen));
        loaded.id == chosen.image.config_digest.hex()
            && i.is_some_and(|i| loaded.layers == layers[i])
            && loaded.architecture == arch_of(&chosen.platform)
    };
    let podman = Podman::new(work).load_all(tar);
    eprintln!("podman loaded: {podman:?}");
    assert!(!podman.is_empty(), "podman loads an image");
    for loaded in &podman {
        assert!(
            loadable.iter().any(|c| matches(loaded, c)),
            "podman's image is one of the registry's: {loaded:?}"
        );
    }
    let here = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    if loadable.iter().any(|c| arch_of(&c.platform) == here) {
        assert!(
            podman.iter().any(|l| l.architecture == here),
            "podman loads this machine's platform ({here}): {podman:?}"
        );
    }
    let dockerd = Dockerd::start();
    let printed = dockerd.load_raw(tar);
    eprintln!("docker load: {}", printed.trim());
    for chosen in &loadable {
        let loaded = dockerd.inspect(&chosen.image.config_digest.to_string());
        assert!(
            matches(&loaded, chosen),
            "docker has {}: {loaded:?}",
            chosen.platform
        );
    }
    let tagged = dockerd.inspect(&expect.repo_tag);
    assert_eq!(
        tagged.id,
        loadable[0].image.config_digest.hex(),
        "the tag is the first image"
    );
}

//! Checks of saved image archives with the real tools (skopeo, umoci) and the `tar` crate, for
//! `journeys_archive.rs`.

pub mod loaders;
pub mod platforms;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wharf_oci::Digest;

/// What the registry holds for one image, to compare an archive with.
pub struct Expect {
    pub manifest_digest: Digest,
    /// The manifest exactly as the registry serves it.
    pub manifest: Vec<u8>,
    pub config_digest: Digest,
    pub layers: Vec<Digest>,
    /// `org.opencontainers.image.ref.name` in `index.json`, and the tag in `RepoTags`.
    pub tag: String,
    /// `RepoTags[0]` of `manifest.json`.
    pub repo_tag: String,
    /// Files the unpacked image must hold (path below `/`, contents).
    pub files: Vec<(String, Vec<u8>)>,
    /// Docker media types: umoci reads the OCI copy made by skopeo instead of the archive.
    pub docker_media_types: bool,
    /// Foreign layers: a copy from the OCI side leaves them out (their descriptors keep the
    /// URLs), so umoci reads the copy from the docker-archive side.
    pub foreign_layers: bool,
}

impl Expect {
    /// What the registry holds for an image the kit pushed.
    pub fn seeded(
        image: &wharf_testkit::SeededImage,
        tag: &str,
        repo_tag: String,
        files: &[(&str, Vec<u8>)],
    ) -> Expect {
        Expect {
            manifest_digest: image.manifest.digest.clone(),
            manifest: image.manifest.bytes.clone(),
            config_digest: image.config.digest.clone(),
            layers: image.layers.iter().map(|l| l.digest.clone()).collect(),
            tag: tag.to_owned(),
            repo_tag,
            files: files
                .iter()
                .map(|(p, c)| ((*p).to_owned(), c.clone()))
                .collect(),
            docker_media_types: image.manifest.media_type.contains("docker"),
            foreign_layers: false,
        }
    }
}

/// Runs a tool; panics with its output unless it succeeds; returns its stdout.
pub fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Whether a tool fails (for archives it must not accept).
pub fn tool_fails(program: &str, args: &[&str]) -> bool {
    !Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"))
        .status
        .success()
}

pub fn tool_json(program: &str, args: &[&str]) -> Value {
    serde_json::from_slice(&tool(program, args)).expect("JSON from the tool")
}

fn strings(digests: &[Digest]) -> Vec<String> {
    digests.iter().map(ToString::to_string).collect()
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("a list: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

/// One entry of a tar, read whole (test archives are small).
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub kind: tar::EntryType,
    pub data: Vec<u8>,
    pub link: Option<String>,
    pub mode: u32,
    pub mtime: u64,
}

pub fn entries(tar_path: &Path) -> Vec<Entry> {
    use std::io::Read;
    let file = std::fs::File::open(tar_path).expect("open the archive");
    let mut archive = tar::Archive::new(file);
    let mut out = Vec::new();
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("entry data");
        out.push(Entry {
            path: entry.path().expect("path").to_string_lossy().into_owned(),
            kind: header.entry_type(),
            data,
            link: entry
                .link_name()
                .expect("link name")
                .map(|l| l.to_string_lossy().into_owned()),
            mode: header.mode().expect("mode"),
            mtime: header.mtime().expect("mtime"),
        });
    }
    out
}

pub fn entry<'a>(entries: &'a [Entry], path: &str) -> &'a Entry {
    entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("no {path} in the archive"))
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// The combined (or pure OCI, `docker == false`) archive as the loaders see it.
pub fn check_image_archive(tar: &Path, expect: &Expect, docker: bool) {
    let tar_str = tar.to_str().expect("utf-8 path");
    let work = tempfile::tempdir().expect("work dir");
    check_layout(tar, expect, docker);

    // The OCI side: the registry's manifest, config and compressed layers, as they are.
    let oci = format!("oci-archive:{tar_str}");
    let inspected = tool_json("skopeo", &["inspect", &oci]);
    assert_eq!(inspected["Digest"], expect.manifest_digest.to_string());
    assert_eq!(string_list(&inspected["Layers"]), strings(&expect.layers));
    let raw = tool("skopeo", &["inspect", "--raw", &oci]);
    assert!(
        raw == expect.manifest,
        "the manifest as the registry serves it"
    );
    let config = tool("skopeo", &["inspect", "--config", "--raw", &oci]);
    assert_eq!(Digest::sha256_of(&config), expect.config_digest);
    let config: Value = serde_json::from_slice(&config).expect("config");
    let diff_ids = string_list(&config["rootfs"]["diff_ids"]);
    assert_eq!(diff_ids.len(), expect.layers.len());

    let same = work.path().join("same");
    let destination = format!("oci:{}:t", same.display());
    tool("skopeo", &["copy", "--quiet", &oci, destination.as_str()]);
    let (layers, config) = oci_layout_image(&same, "t");
    assert_eq!(
        layers, expect.layers,
        "compressed layer digests kept by a copy"
    );
    if expect.docker_media_types {
        // Converted to OCI media types: the config is rewritten, its layers are not.
        assert_eq!(copied_diff_ids(&same, &config), diff_ids);
    } else {
        assert_eq!(config, expect.config_digest, "config kept by a copy");
    }

    let docker_archive = format!("docker-archive:{tar_str}");
    let copied = if docker {
        Some(check_docker_side(
            &docker_archive,
            expect,
            &diff_ids,
            work.path(),
        ))
    } else {
        assert!(
            tool_fails("skopeo", &["inspect", &docker_archive]),
            "a pure OCI archive has no manifest.json"
        );
        None
    };

    loaders::check_loaded(tar, expect, &diff_ids, docker, work.path());

    // umoci reads OCI media types only: the archive itself, or else skopeo's OCI copy.
    if let Some(copied) = copied.filter(|_| expect.foreign_layers) {
        unpack_and_check(&copied, "t", expect, work.path());
    } else if expect.docker_media_types {
        unpack_and_check(&same, "t", expect, work.path());
    } else {
        let layout = unpack_tar(tar, work.path());
        unpack_and_check(&layout, &expect.tag, expect, work.path());
    }
}

/// The docker-archive side. It serves layers uncompressed, so it names them by diff id; a copy
/// into an OCI layout recompresses them, and they must decompress to the same diff ids.
/// Returns the OCI layout it copied the image into.
fn check_docker_side(
    docker_archive: &str,
    expect: &Expect,
    diff_ids: &[String],
    work: &Path,
) -> PathBuf {
    let inspected = tool_json("skopeo", &["inspect", docker_archive]);
    assert_eq!(
        string_list(&inspected["Layers"]),
        diff_ids,
        "docker-archive layers"
    );
    let config = tool("skopeo", &["inspect", "--config", "--raw", docker_archive]);
    assert_eq!(
        Digest::sha256_of(&config),
        expect.config_digest,
        "docker-archive config"
    );
    // RepoTags: the transport finds the image by its name.
    let by_name = format!("{docker_archive}:{}", expect.repo_tag);
    assert_eq!(
        tool_json("skopeo", &["inspect", &by_name])["Digest"],
        inspected["Digest"]
    );

    let copied = work.join("copied");
    let destination = format!("oci:{}:t", copied.display());
    tool(
        "skopeo",
        &["copy", "--quiet", docker_archive, destination.as_str()],
    );
    let (layers, config) = oci_layout_image(&copied, "t");
    assert_eq!(copied_diff_ids(&copied, &config), diff_ids);
    let unpacked: Vec<String> = layers
        .iter()
        .map(|layer| {
            let file = copied.join(blob_path(layer));
            let file = file.to_str().expect("utf-8");
            Digest::sha256_of(&tool("gzip", &["-dc", file])).to_string()
        })
        .collect();
    assert_eq!(unpacked, diff_ids, "the same layers after the round trip");
    copied
}

/// `rootfs.diff_ids` of the config `config` in an OCI layout directory.
fn copied_diff_ids(layout: &Path, config: &Digest) -> Vec<String> {
    let config = std::fs::read(layout.join(blob_path(config))).expect("copied config");
    let config: Value = serde_json::from_slice(&config).expect("config");
    string_list(&config["rootfs"]["diff_ids"])
}

/// `oci-layout`, `index.json` and (combined) `manifest.json` as written, read with `tar`.
fn check_layout(tar: &Path, expect: &Expect, docker: bool) {
    let all = entries(tar);
    for e in &all {
        assert_eq!(e.mtime, 0, "{} has mtime 0", e.path);
        let mode = if e.kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        };
        assert_eq!(e.mode & 0o7777, mode, "{} mode", e.path);
    }
    let manifest = entry(&all, &blob_path(&expect.manifest_digest));
    assert!(manifest.data == expect.manifest, "manifest blob as served");
    let index: Value = serde_json::from_slice(&entry(&all, "index.json").data).expect("index");
    let described = &index["manifests"][0];
    assert_eq!(described["digest"], expect.manifest_digest.to_string());
    assert_eq!(
        described["annotations"]["org.opencontainers.image.ref.name"],
        expect.tag
    );
    for layer in &expect.layers {
        let blob = entry(&all, &blob_path(layer));
        assert_eq!(&Digest::sha256_of(&blob.data), layer, "layer file content");
    }
    let has_docker = all.iter().any(|e| e.path == "manifest.json");
    assert_eq!(has_docker, docker, "manifest.json only in the combined tar");
    if docker {
        let items: Value =
            serde_json::from_slice(&entry(&all, "manifest.json").data).expect("manifest.json");
        assert_eq!(items[0]["RepoTags"][0], expect.repo_tag);
        assert_eq!(items[0]["Config"], blob_path(&expect.config_digest));
        let layers: Vec<String> = expect.layers.iter().map(blob_path).collect();
        assert_eq!(string_list(&items[0]["Layers"]), layers);
    }
}

/// Extracts the archive (an OCI layout) into `work/layout`.
fn unpack_tar(tar: &Path, work: &Path) -> PathBuf {
    let layout = work.join("layout");
    let file = std::fs::File::open(tar).expect("open");
    tar::Archive::new(file).unpack(&layout).expect("extract");
    layout
}

/// The layer digests and config digest of `tag` in an OCI layout directory.
fn oci_layout_image(layout: &Path, tag: &str) -> (Vec<Digest>, Digest) {
    let read = |path: PathBuf| std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let index: Value = serde_json::from_slice(&read(layout.join("index.json"))).expect("index");
    let entry = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("{tag} in {index}"));
    let digest: Digest = entry["digest"]
        .as_str()
        .expect("digest")
        .parse()
        .expect("valid");
    let manifest: Value =
        serde_json::from_slice(&read(layout.join(blob_path(&digest)))).expect("manifest");
    let parse = |v: &Value| -> Digest { v.as_str().expect("digest").parse().expect("valid") };
    let layers = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| parse(&l["digest"]))
        .collect();
    (layers, parse(&manifest["config"]["digest"]))
}

/// `umoci unpack` of `layout:tag`; the expected files must be in the root filesystem.
fn unpack_and_check(layout: &Path, tag: &str, expect: &Expect, work: &Path) {
    let bundle = work.join("bundle");
    let image = format!("{}:{tag}", layout.display());
    let bundle_str = bundle.to_str().expect("utf-8");
    tool(
        "umoci",
        &["unpack", "--rootless", "--image", &image, bundle_str],
    );
    for (path, contents) in &expect.files {
        let file = bundle.join("rootfs").join(path);
        let found = std::fs::read(&file).unwrap_or_else(|e| panic!("{file:?} unpacked: {e}"));
        assert!(&found == contents, "{path} has the seeded contents");
    }
}

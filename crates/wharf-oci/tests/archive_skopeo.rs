//! Archives written by `wharf_oci::archive`, checked by the real tools: skopeo reads the tar as
//! a docker-archive and as an oci-archive, copies it into an OCI layout, and umoci unpacks it.
//! Needs `/usr/bin/skopeo` and `/usr/bin/umoci` (installed by the test kit's setup).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use flate2::write::GzEncoder;
use serde_json::{json, Value};
use wharf_oci::archive::{BlobRef, Format, ImageName, ImagePlan};
use wharf_oci::Digest;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A real image: gzip layers of real tars, a config naming their diff ids, a manifest.
struct TestImage {
    plan: ImagePlan,
    blobs: HashMap<Digest, Vec<u8>>,
    diff_ids: Vec<String>,
}

/// A gzip-compressed tar holding `files`, and the digest of the uncompressed tar (diff id).
fn layer(files: &[(&str, &[u8])]) -> (Vec<u8>, Digest) {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *content).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), Digest::sha256_of(&tar))
}

fn test_image(manifest_media_type: &str) -> TestImage {
    let docker = manifest_media_type == DOCKER_MANIFEST;
    let layers = [
        layer(&[("hello.txt", b"hello from wharf\n")]),
        layer(&[
            ("etc/motd", b"layer two\n"),
            ("hello.txt", b"hello again\n"),
        ]),
    ];
    let diff_ids: Vec<String> = layers.iter().map(|(_, d)| d.to_string()).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let (config_type, layer_type) = if docker {
        (
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        )
    } else {
        (
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        )
    };
    let descriptor = |media_type: &str, bytes: &[u8]| json!({"mediaType": media_type, "digest": Digest::sha256_of(bytes), "size": bytes.len()});
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_media_type,
        "config": descriptor(config_type, &config),
        "layers": layers.iter().map(|(gz, _)| descriptor(layer_type, gz)).collect::<Vec<_>>(),
    }))
    .unwrap();
    let reference = "localhost:5000/test:1".parse().unwrap();
    let plan = ImagePlan {
        name: ImageName::from_reference(&reference),
        manifest_digest: Digest::sha256_of(&manifest),
        manifest,
        manifest_media_type: manifest_media_type.to_owned(),
        config_digest: Digest::sha256_of(&config),
        config,
        layers: layers
            .iter()
            .map(|(gz, _)| BlobRef::new(Digest::sha256_of(gz), gz.len() as u64))
            .collect(),
    };
    let blobs = layers
        .into_iter()
        .map(|(gz, _)| (Digest::sha256_of(&gz), gz))
        .collect();
    TestImage {
        plan,
        blobs,
        diff_ids,
    }
}

fn write_archive(image: &TestImage, format: Format, path: &Path) {
    let archive = image.plan.archive(format).unwrap();
    let bytes = archive
        .write_to_vec(|d| image.blobs.get(d).cloned().unwrap_or_default())
        .unwrap();
    assert_eq!(bytes.len() as u64, archive.total_size());
    std::fs::write(path, bytes).unwrap();
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {stderr}"
    );
    String::from_utf8(output.stdout).unwrap()
}

fn skopeo_json(args: &[&str]) -> Value {
    let out = run("skopeo", &[&["--insecure-policy"], args].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("skopeo {args:?}: {e}: {out}"))
}

fn strings(value: &Value) -> Vec<String> {
    let items = value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"));
    items
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn layer_digests(image: &TestImage) -> Vec<String> {
    image
        .plan
        .layers
        .iter()
        .map(|l| l.digest.to_string())
        .collect()
}

/// What skopeo sees in the archive through both transports, and after a copy.
fn check_with_skopeo(image: &TestImage, tar: &Path, dir: &Path) {
    let tar = tar.to_str().unwrap();
    let docker = format!("docker-archive:{tar}");
    let oci = format!("oci-archive:{tar}");

    let config = skopeo_json(&["inspect", "--config", &docker]);
    assert_eq!(strings(&config["rootfs"]["diff_ids"]), image.diff_ids);
    let inspected = skopeo_json(&["inspect", &docker]);
    // docker-archive reports layers by diff id (it serves them uncompressed).
    assert_eq!(strings(&inspected["Layers"]), image.diff_ids);
    // `RepoTags` in manifest.json: the transport finds the image by that name.
    let by_name = skopeo_json(&["inspect", &format!("{docker}:localhost:5000/test:1")]);
    assert_eq!(by_name["Digest"], inspected["Digest"]);
    let other_name = Command::new("skopeo")
        .args(["inspect", &format!("{docker}:localhost:5000/test:2")])
        .output()
        .unwrap();
    assert!(!other_name.status.success(), "no image is tagged test:2");
    assert_eq!(inspected["Os"], "linux");

    let inspected = skopeo_json(&["inspect", &oci]);
    assert_eq!(strings(&inspected["Layers"]), layer_digests(image));
    assert_eq!(inspected["Digest"], image.plan.manifest_digest.to_string());
    let raw = run("skopeo", &["inspect", "--raw", &oci]);
    assert_eq!(
        raw.as_bytes(),
        image.plan.manifest,
        "the manifest as served"
    );
    let config = run("skopeo", &["inspect", "--config", "--raw", &oci]);
    assert_eq!(config.as_bytes(), image.plan.config);

    let layout = format!("oci:{}:t", dir.display());
    run(
        "skopeo",
        &["--insecure-policy", "copy", "--quiet", &docker, &layout],
    );
    let config = skopeo_json(&["inspect", "--config", &layout]);
    assert_eq!(strings(&config["rootfs"]["diff_ids"]), image.diff_ids);
    let copied = skopeo_json(&["inspect", &layout]);
    assert_eq!(strings(&copied["Layers"]).len(), 2);

    // Through the OCI side the blobs are copied as they are: the same compressed digests.
    let same = format!("oci:{}:same", dir.display());
    run(
        "skopeo",
        &["--insecure-policy", "copy", "--quiet", &oci, &same],
    );
    let copied = skopeo_json(&["inspect", &same]);
    assert_eq!(strings(&copied["Layers"]), layer_digests(image));
}

/// `umoci unpack` of an OCI layout gives the files of both layers, the top one winning.
fn check_unpack(layout: &Path, tag: &str, bundle: &Path) {
    let image = format!("{}:{tag}", layout.display());
    let bundle_arg = bundle.to_str().unwrap();
    run(
        "umoci",
        &["unpack", "--rootless", "--image", &image, bundle_arg],
    );
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read(rootfs.join("hello.txt")).unwrap(),
        b"hello again\n"
    );
    assert_eq!(
        std::fs::read(rootfs.join("etc/motd")).unwrap(),
        b"layer two\n"
    );
}

#[test]
fn combined_archive_of_an_oci_image_passes_skopeo_and_umoci() {
    let temp = tempfile::tempdir().unwrap();
    let image = test_image(OCI_MANIFEST);
    let tar = temp.path().join("test_1_linux-amd64.tar");
    write_archive(&image, Format::Combined, &tar);
    check_with_skopeo(&image, &tar, &temp.path().join("copied"));
    check_unpack(
        &temp.path().join("copied"),
        "t",
        &temp.path().join("bundle-copied"),
    );

    // The OCI side of the tar itself, extracted as it is, unpacks too (ref name = the tag).
    let extracted = temp.path().join("extracted");
    tar::Archive::new(std::fs::File::open(&tar).unwrap())
        .unpack(&extracted)
        .unwrap();
    check_unpack(&extracted, "1", &temp.path().join("bundle-direct"));
}

#[test]
fn combined_archive_of_a_docker_image_passes_skopeo_and_umoci() {
    let temp = tempfile::tempdir().unwrap();
    let image = test_image(DOCKER_MANIFEST);
    let tar = temp.path().join("test_1_linux-amd64.tar");
    write_archive(&image, Format::Combined, &tar);
    check_with_skopeo(&image, &tar, &temp.path().join("copied"));
    check_unpack(
        &temp.path().join("copied"),
        "t",
        &temp.path().join("bundle"),
    );
}

#[test]
fn oci_archive_passes_skopeo_and_is_not_a_docker_archive() {
    let temp = tempfile::tempdir().unwrap();
    let image = test_image(OCI_MANIFEST);
    let tar = temp.path().join("oci.tar");
    write_archive(&image, Format::Oci, &tar);
    let oci = format!("oci-archive:{}", tar.display());
    let inspected = skopeo_json(&["inspect", &oci]);
    assert_eq!(strings(&inspected["Layers"]), layer_digests(&image));
    let layout = format!("oci:{}:t", temp.path().join("copied").display());
    run(
        "skopeo",
        &["--insecure-policy", "copy", "--quiet", &oci, &layout],
    );
    check_unpack(
        &temp.path().join("copied"),
        "t",
        &temp.path().join("bundle"),
    );
    let docker = Command::new("skopeo")
        .args(["inspect", &format!("docker-archive:{}", tar.display())])
        .output()
        .unwrap();
    assert!(
        !docker.status.success(),
        "a pure OCI archive has no manifest.json"
    );
}

//! OCI + docker-archive (combined) and pure OCI archives.

use serde_json::json;

use super::*;
use crate::Error;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A synthetic image: layer contents, config and manifest bytes that name each other.
pub(super) struct Image {
    pub(super) layers: Vec<Vec<u8>>,
    pub(super) config: Vec<u8>,
    pub(super) manifest: Vec<u8>,
}

impl Image {
    pub(super) fn new(layers: &[&[u8]]) -> Self {
        Self::for_arch(layers, "amd64")
    }

    pub(super) fn for_arch(layers: &[&[u8]], arch: &str) -> Self {
        let layers: Vec<Vec<u8>> = layers.iter().map(|l| l.to_vec()).collect();
        let config =
            format!(r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers"}}}}"#)
                .into_bytes();
        let descriptor = |media_type: &str, bytes: &[u8]| json!({"mediaType": media_type, "digest": Digest::sha256_of(bytes), "size": bytes.len()});
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
            "layers": layers.iter()
                .map(|l| descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l))
                .collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec(&manifest).unwrap();
        Image {
            layers,
            config,
            manifest,
        }
    }

    pub(super) fn plan(&self, reference: &str) -> ImagePlan {
        ImagePlan {
            name: name(reference),
            manifest: self.manifest.clone(),
            manifest_digest: Digest::sha256_of(&self.manifest),
            manifest_media_type: OCI_MANIFEST.to_owned(),
            config: self.config.clone(),
            config_digest: Digest::sha256_of(&self.config),
            layers: self
                .layers
                .iter()
                .map(|l| BlobRef::new(Digest::sha256_of(l), l.len() as u64))
                .collect(),
        }
    }

    fn write(&self, plan: &ImagePlan, format: Format) -> (Archive, Vec<u8>) {
        let archive = plan.archive(format).unwrap();
        let blobs = store(&self.layers);
        let bytes = archive.write_to_vec(fetch_from(&blobs)).unwrap();
        (archive, bytes)
    }
}

pub(super) fn blob(bytes: &[u8]) -> String {
    format!("blobs/sha256/{}", Digest::sha256_of(bytes).hex())
}

#[test]
fn combined_archive_lists_layout_then_docker_files_then_blobs() {
    let image = Image::new(&[b"base layer", b"top layer!"]);
    let plan = image.plan("localhost:5000/test:1");
    let (archive, bytes) = image.write(&plan, Format::Combined);
    let entries = read_entries(&bytes);
    let expected = [
        "blobs/".to_owned(),
        "blobs/sha256/".to_owned(),
        "oci-layout".to_owned(),
        "index.json".to_owned(),
        "manifest.json".to_owned(),
        "repositories".to_owned(),
        blob(&image.manifest),
        blob(&image.config),
        blob(b"base layer"),
        blob(b"top layer!"),
    ];
    assert_eq!(paths(&entries), expected);
    assert_well_formed(&archive, &bytes, &entries);
    assert_eq!(
        content(&entries, "oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    assert_eq!(content(&entries, &blob(&image.manifest)), image.manifest);
    assert_eq!(content(&entries, &blob(&image.config)), image.config);
    assert_eq!(content(&entries, &blob(b"top layer!")), b"top layer!");
    let layers: Vec<_> = archive
        .blobs()
        .into_iter()
        .map(|(d, s)| (d.clone(), s))
        .collect();
    assert_eq!(
        layers,
        [
            (Digest::sha256_of(b"base layer"), 10),
            (Digest::sha256_of(b"top layer!"), 10)
        ]
    );
}

#[test]
fn docker_files_name_the_same_blobs() {
    let image = Image::new(&[b"base layer", b"top layer!"]);
    let (_, bytes) = image.write(&image.plan("localhost:5000/test:1"), Format::Combined);
    let entries = read_entries(&bytes);
    let manifest = content(&entries, "manifest.json");
    assert_eq!(manifest.last(), Some(&b'\n'));
    assert_eq!(
        json(manifest),
        json!([{
            "Config": blob(&image.config),
            "RepoTags": ["localhost:5000/test:1"],
            "Layers": [blob(b"base layer"), blob(b"top layer!")],
        }])
    );
    let top = Digest::sha256_of(b"top layer!");
    assert_eq!(
        json(content(&entries, "repositories")),
        json!({"localhost:5000/test": {"1": top.hex()}})
    );
}

#[test]
fn index_json_names_the_manifest_as_served() {
    let image = Image::new(&[b"only layer"]);
    let (_, bytes) = image.write(&image.plan("alpine:3.20"), Format::Combined);
    let entries = read_entries(&bytes);
    assert_eq!(
        json(content(&entries, "index.json")),
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": Digest::sha256_of(&image.manifest),
                "size": image.manifest.len(),
                "annotations": {
                    "io.containerd.image.name": "docker.io/library/alpine:3.20",
                    "org.opencontainers.image.ref.name": "3.20",
                },
            }],
        })
    );
    assert_eq!(
        json(content(&entries, "manifest.json"))[0]["RepoTags"],
        json!(["alpine:3.20"])
    );
}

#[test]
fn oci_format_has_no_docker_files() {
    let image = Image::new(&[b"a", b"b"]);
    let (archive, bytes) = image.write(&image.plan("localhost:5000/test:1"), Format::Oci);
    let entries = read_entries(&bytes);
    let names = paths(&entries);
    assert_eq!(
        &names[..4],
        ["blobs/", "blobs/sha256/", "oci-layout", "index.json"]
    );
    assert!(!names.contains(&"manifest.json"));
    assert!(!names.contains(&"repositories"));
    assert_eq!(names.len(), 8);
    assert_well_formed(&archive, &bytes, &entries);
}

#[test]
fn same_inputs_give_identical_bytes() {
    let first = Image::new(&[b"layer one", b"layer two"]);
    let second = Image::new(&[b"layer one", b"layer two"]);
    for format in [Format::Combined, Format::Oci] {
        let (a, a_bytes) = first.write(&first.plan("localhost:5000/test:1"), format);
        let (b, b_bytes) = second.write(&second.plan("localhost:5000/test:1"), format);
        assert_eq!(a, b);
        assert_eq!(a_bytes, b_bytes);
    }
    let (_, other) = first.write(&first.plan("localhost:5000/test:2"), Format::Combined);
    let (_, one) = first.write(&first.plan("localhost:5000/test:1"), Format::Combined);
    assert_ne!(one, other, "the tag is part of the archive");
}

#[test]
fn a_layer_used_twice_is_written_once() {
    let image = Image::new(&[b"shared", b"middle", b"shared"]);
    let plan = image.plan("localhost:5000/test:1");
    let (archive, bytes) = image.write(&plan, Format::Combined);
    assert_eq!(archive.blobs().len(), 2);
    let entries = read_entries(&bytes);
    let shared = blob(b"shared");
    assert_eq!(entries.iter().filter(|e| e.path == shared).count(), 1);
    let listed = &json(content(&entries, "manifest.json"))[0]["Layers"];
    assert_eq!(*listed, json!([shared, blob(b"middle"), shared]));
    assert_well_formed(&archive, &bytes, &entries);
}

#[test]
fn without_a_tag_the_image_is_named_by_digest() {
    let image = Image::new(&[b"l"]);
    let pinned = format!("localhost:5000/test@{}", Digest::sha256_of(&image.manifest));
    let (_, bytes) = image.write(&image.plan(&pinned), Format::Combined);
    let entries = read_entries(&bytes);
    assert!(!paths(&entries).contains(&"repositories"));
    assert_eq!(
        json(content(&entries, "manifest.json"))[0]["RepoTags"],
        json!([])
    );
    let annotations = &json(content(&entries, "index.json"))["manifests"][0]["annotations"];
    assert_eq!(*annotations, json!({"io.containerd.image.name": pinned}));
}

#[test]
fn sha512_blobs_get_their_own_directory() {
    let image = Image::new(&[b"sha256 layer"]);
    let mut plan = image.plan("localhost:5000/test:1");
    let big = b"sha512 layer".to_vec();
    let big_digest = Digest::of(crate::Algorithm::Sha512, &big);
    plan.layers
        .push(BlobRef::new(big_digest.clone(), big.len() as u64));
    let archive = plan.archive(Format::Combined).unwrap();
    let mut blobs = store(&image.layers);
    blobs.insert(big_digest.clone(), big.clone());
    let bytes = archive.write_to_vec(fetch_from(&blobs)).unwrap();
    let entries = read_entries(&bytes);
    let names = paths(&entries);
    assert_eq!(&names[..3], ["blobs/", "blobs/sha256/", "blobs/sha512/"]);
    let path = format!("blobs/sha512/{}", big_digest.hex());
    assert_eq!(content(&entries, &path), big);
    assert_well_formed(&archive, &bytes, &entries);
}

#[test]
fn total_size_is_known_for_a_huge_layer() {
    let image = Image::new(&[b"x"]);
    let mut plan = image.plan("localhost:5000/test:1");
    let size = 20 << 30;
    plan.layers = vec![BlobRef::new(Digest::sha256_of(b"huge"), size)];
    let archive = plan.archive(Format::Combined).unwrap();
    let small: u64 = archive
        .segments()
        .iter()
        .filter(|s| matches!(s, Segment::Bytes(_)))
        .map(Segment::len)
        .sum();
    assert_eq!(archive.total_size(), small + size);
    assert_eq!((small + size) % 512, 0);
}

#[test]
fn real_manifest_from_the_fixtures_plans_its_layers() {
    let manifest = include_bytes!("../../../tests/fixtures/alpine-amd64-manifest.json");
    let config = include_bytes!("../../../tests/fixtures/alpine-amd64-config.json");
    let parsed = json(manifest);
    let layers: Vec<BlobRef> = parsed["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            BlobRef::new(
                l["digest"].as_str().unwrap().parse().unwrap(),
                l["size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(!layers.is_empty());
    let plan = ImagePlan {
        name: name("alpine:latest"),
        manifest: manifest.to_vec(),
        manifest_digest: Digest::sha256_of(manifest),
        manifest_media_type: parsed["mediaType"].as_str().unwrap().to_owned(),
        config: config.to_vec(),
        config_digest: Digest::sha256_of(config),
        layers: layers.clone(),
    };
    let archive = plan.archive(Format::Combined).unwrap();
    let planned: Vec<_> = archive
        .blobs()
        .into_iter()
        .map(|(d, s)| BlobRef::new(d.clone(), s))
        .collect();
    assert_eq!(planned, layers);
}

#[test]
fn inputs_that_do_not_match_their_digests_are_refused() {
    let image = Image::new(&[b"layer"]);
    let mut bad_manifest = image.plan("localhost:5000/test:1");
    bad_manifest.manifest.push(b' ');
    assert!(matches!(
        bad_manifest.archive(Format::Combined),
        Err(Error::DigestMismatch { .. })
    ));
    let mut bad_config = image.plan("localhost:5000/test:1");
    bad_config.config_digest = Digest::sha256_of(b"another config");
    assert!(matches!(
        bad_config.archive(Format::Oci),
        Err(Error::DigestMismatch { .. })
    ));
    for media_type in [
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ] {
        let mut plan = image.plan("localhost:5000/test:1");
        plan.manifest_media_type = media_type.to_owned();
        assert_eq!(
            plan.archive(Format::Combined),
            Err(Error::UnsupportedMediaType {
                media_type: media_type.to_owned()
            })
        );
    }
    let mut docker = image.plan("localhost:5000/test:1");
    docker.manifest_media_type = "application/vnd.docker.distribution.manifest.v2+json".to_owned();
    assert!(docker.archive(Format::Combined).is_ok());
}

#[test]
fn blobs_that_do_not_verify_stop_the_writer() {
    let image = Image::new(&[b"the real layer"]);
    let archive = image
        .plan("localhost:5000/test:1")
        .archive(Format::Combined)
        .unwrap();
    let wrong = archive.write_to_vec(|_| b"the fake layer".to_vec());
    assert!(matches!(wrong, Err(Error::DigestMismatch { .. })));
    let short = archive.write_to_vec(|_| b"short".to_vec());
    assert!(matches!(
        short,
        Err(Error::SizeMismatch {
            expected: 14,
            actual: 5
        })
    ));
    let long = archive.write_to_vec(|_| vec![0; 100]);
    assert!(matches!(
        long,
        Err(Error::SizeMismatch { expected: 14, .. })
    ));
}

//! Seeding that the test kit does not offer as one call.

use serde_json::json;
use wharf_testkit::{Registry, SeededImage};

/// An OCI image whose only layer is `size` pattern bytes (streamed into the registry, never
/// held in memory): for downloads large enough to be interrupted mid-stream.
pub async fn push_big_image(registry: &Registry, repo: &str, tag: &str, size: u64) -> SeededImage {
    const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    let mut layer = registry
        .push_blob_stream(repo, size, 0x5eed)
        .await
        .expect("push layer");
    layer.media_type = "application/vnd.oci.image.layer.v1.tar".to_owned();
    let config = json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
    });
    let mut config = registry
        .push_blob(repo, config.to_string().into_bytes())
        .await
        .expect("push config");
    config.media_type = "application/vnd.oci.image.config.v1+json".to_owned();
    let manifest = json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": config.descriptor(), "layers": [layer.descriptor()],
    });
    let manifest = registry
        .push_manifest(
            repo,
            tag,
            MANIFEST,
            serde_json::to_vec(&manifest).expect("json"),
        )
        .await
        .expect("push manifest");
    SeededImage {
        manifest,
        config,
        layers: vec![layer],
        platform: None,
    }
}

/// The files of a three-layer image: two of 3 MiB pattern bytes (`seeds`) around a small one.
pub type ThreeFiles = [(&'static str, Vec<u8>); 3];

/// A linux/amd64 OCI image `repo:1` of three layers, one file each (see [`ThreeFiles`]).
pub async fn push_three_file_image(
    registry: &Registry,
    repo: &str,
    seeds: (u64, u64),
    small: &[u8],
) -> (SeededImage, ThreeFiles) {
    let big = |seed| wharf_testkit::Pattern::new(seed).bytes(0, 3 << 20);
    let files = [
        ("data/one.bin", big(seeds.0)),
        ("etc/motd", small.to_vec()),
        ("data/two.bin", big(seeds.1)),
    ];
    let layers: Vec<Vec<(String, Vec<u8>)>> = files
        .iter()
        .map(|(p, c)| vec![((*p).to_owned(), c.clone())])
        .collect();
    let platform = wharf_testkit::SeedPlatform::new("linux", "amd64", None);
    let flavor = wharf_testkit::Flavor::Oci;
    let image = registry
        .push_image_layers(repo, Some("1"), flavor, &platform, &layers)
        .await
        .expect("seed");
    (image, files)
}

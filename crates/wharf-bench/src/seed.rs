//! Large images for the bench: layers of pattern bytes streamed into the registry (never held in
//! memory), declared as uncompressed OCI layers so that their digests are their diff IDs.

use serde_json::json;
use wharf_testkit::{Registry, SeededBlob, SeededImage};

use crate::error::Result;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// Pushes a linux/amd64 image `repo:tag` whose layers are `layer_sizes` pattern bytes each
/// (seeds `seed`, `seed + 1`, ...).
pub async fn push_pattern_image(
    registry: &Registry,
    repo: &str,
    tag: &str,
    layer_sizes: &[u64],
    seed: u64,
) -> Result<SeededImage> {
    let mut layers: Vec<SeededBlob> = Vec::with_capacity(layer_sizes.len());
    for (i, size) in layer_sizes.iter().enumerate() {
        let mut layer = registry
            .push_blob_stream(repo, *size, seed + i as u64)
            .await?;
        layer.media_type = LAYER.to_owned();
        layers.push(layer);
    }
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
    let config = json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let mut config = registry
        .push_blob(repo, config.to_string().into_bytes())
        .await?;
    config.media_type = CONFIG.to_owned();
    let manifest = json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": config.descriptor(),
        "layers": layers.iter().map(SeededBlob::descriptor).collect::<Vec<_>>(),
    });
    let manifest = registry
        .push_manifest(repo, tag, MANIFEST, manifest.to_string().into_bytes())
        .await?;
    Ok(SeededImage {
        manifest,
        config,
        layers,
        platform: None,
    })
}

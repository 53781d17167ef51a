//! Planning an archive of several platforms of one index (`StartExport::platforms`): each
//! chosen entry's manifest is fetched by digest (verified), then its config, and
//! `wharf_oci::archive::IndexPlan` lays them out under the index.

use std::collections::HashMap;

use wharf_oci::archive::{BlobRef, ImageName, IndexImage, IndexPlan};
use wharf_oci::manifest::{Fetched, Index, Manifest};
use wharf_oci::platform::{entries, EntryKind};
use wharf_oci::Digest;

use super::{archive_format, config_bytes, Planned};
use crate::download::protocol::StartExport;
use crate::net::{IoError, RegistryClient};

/// Plans the archive of `job.platforms`, entries of `index` (served as `fetched`).
pub async fn plan_index(
    job: &StartExport,
    client: &RegistryClient,
    fetched: &Fetched,
    index: &Index,
) -> Result<Planned, IoError> {
    let listed = entries(index);
    let mut images = Vec::with_capacity(job.platforms.len());
    let mut urls = HashMap::new();
    for digest in &job.platforms {
        let kind = listed
            .iter()
            .find(|e| &e.descriptor.digest == digest)
            .map(|e| e.kind)
            .ok_or_else(|| IoError::Protocol {
                message: format!("{digest} is not an entry of {}", job.reference),
            })?;
        let image = entry_image(job, client, digest, kind, &mut urls).await?;
        images.push(image);
    }
    let plan = IndexPlan {
        name: ImageName::from_reference(&job.reference),
        index: fetched.bytes.clone(),
        index_digest: fetched.digest.clone(),
        index_media_type: fetched.media_type().to_owned(),
        images,
    };
    Ok(Planned {
        archive: plan.archive(archive_format(job.format))?,
        manifest_digest: fetched.digest.clone(),
        urls,
    })
}

/// One chosen entry: a runnable image, or an attestation (saved, never loaded).
async fn entry_image(
    job: &StartExport,
    client: &RegistryClient,
    digest: &Digest,
    kind: EntryKind,
    urls: &mut HashMap<Digest, Vec<String>>,
) -> Result<IndexImage, IoError> {
    if !matches!(kind, EntryKind::Runnable | EntryKind::Attestation) {
        return Err(IoError::Protocol {
            message: format!(
                "{digest} is listed as {}: only images and attestations go into an archive",
                kind.label().unwrap_or("something else")
            ),
        });
    }
    let fetched = client.manifest_by_digest(&job.reference, digest).await?;
    let Manifest::Image(manifest) = &fetched.manifest else {
        return Err(IoError::Protocol {
            message: format!("{digest} is listed as an image, but it is not an image manifest"),
        });
    };
    let config = config_bytes(client, &job.reference, manifest).await?;
    urls.extend(
        manifest
            .foreign_layers()
            .map(|l| (l.digest.clone(), l.urls.clone())),
    );
    Ok(IndexImage {
        manifest: fetched.bytes.clone(),
        manifest_digest: fetched.digest.clone(),
        manifest_media_type: fetched.media_type().to_owned(),
        config,
        config_digest: manifest.config.digest.clone(),
        layers: manifest
            .layers
            .iter()
            .map(|l| BlobRef::new(l.digest.clone(), l.size))
            .collect(),
        loadable: kind == EntryKind::Runnable,
    })
}

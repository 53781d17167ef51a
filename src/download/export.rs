//! Saving a whole image (one platform) as one verified tar, in the download worker (issue 5).
//!
//! 1. [`plan`]: fetch the image manifest by its digest and the config (both verified), and
//!    plan the archive with `wharf_oci::archive`: OCI and Docker schema 2 images become an
//!    [`ImagePlan`] (one tar that is an OCI layout and a docker-archive, or a pure OCI layout);
//!    schema 1 images a [`LegacyPlan`] (the Docker image v1.0 layout), with each blob's size
//!    learned by `HEAD` (schema 1 has none).
//! 2. Stage one file (`export-<manifest hex>-<format>-<ms>.tar`) and write the segments in
//!    order ([`writer::write_archive`]): small ones from memory, each blob streamed through the
//!    engine (verified while it streams, resumed within the blob after a broken stream), so no
//!    layer is ever held in memory. The whole tar is hashed as it is written.
//! 3. Only when every blob verified: [`DownloadEvent::Verified`] with the tar's sha256 (the
//!    archive is deterministic, so the same image gives the same sha256 anywhere). On any
//!    failure or cancel the staged file is removed and nothing is offered.
//!
//! Foreign layers (descriptors with `urls`) are fetched from the registry first; if it does not
//! have them (blob unknown), from the first URL, through the relay ([`sources`]). They are
//! never skipped: a refusal fails the export with a message naming the URL.

pub mod platforms;
pub mod resume;
pub mod sources;
pub mod writer;

use std::collections::HashMap;

use wharf_oci::archive::{Archive, BlobRef, Format, ImageName, ImagePlan, LegacyLayer, LegacyPlan};
use wharf_oci::manifest::{Fetched, ImageManifest, Manifest, Schema1};
use wharf_oci::{Digest, Reference};

use super::engine::{window_for_this_browser, CancelToken, Engine};
use super::opfs::{Staging, SyncFile};
use super::protocol::{export_staged_name, DownloadEvent, ExportFormat, StartExport};
use super::retry::RetryPolicy;
use crate::net::body::{ChunkBuffer, DEFAULT_CHUNK};
use crate::net::{js, IoError, RegistryClient};
use resume::Resumed;
use sources::RegistryBlobs;
use writer::{write_archive, ExportObserver, TarSink};

/// Largest image config read into memory (as when looking an image up).
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// An archive ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub archive: Archive,
    /// The image manifest's digest (names the staged file).
    pub manifest_digest: Digest,
    /// Foreign layers: the `urls` of their descriptors.
    pub urls: HashMap<Digest, Vec<String>>,
}

/// Runs one export to its final event; progress and retries go to `emit` on the way.
pub async fn run_export(
    job: &StartExport,
    client: &RegistryClient,
    cancel: &CancelToken,
    emit: &mut dyn FnMut(DownloadEvent),
) -> DownloadEvent {
    let id = job.id;
    match export(job, client, cancel, emit).await {
        Ok((digest, size, staged_name)) => DownloadEvent::Verified {
            id,
            digest,
            size,
            staged_name,
            file_name: job.file_name.clone(),
        },
        Err(IoError::Cancelled) => DownloadEvent::Cancelled { id },
        Err(error) => DownloadEvent::Failed { id, error },
    }
}

async fn export(
    job: &StartExport,
    client: &RegistryClient,
    cancel: &CancelToken,
    emit: &mut dyn FnMut(DownloadEvent),
) -> Result<(Digest, u64, String), IoError> {
    let planned = plan(job, client).await?;
    if cancel.is_cancelled() {
        return Err(IoError::Cancelled);
    }
    let name = match &job.staged_name {
        Some(name) => name.clone(),
        None => export_staged_name(&planned.manifest_digest, job.format, js::now_ms()),
    };
    let staging = Staging::open().await?;
    let staged = match staging.open_sync(&name).await {
        Ok(file) => stage(job, client, cancel, &planned, file, emit).await,
        Err(e) => Err(e),
    };
    match staged {
        Ok(digest) => Ok((digest, planned.archive.total_size(), name)),
        Err(error) => {
            // Nothing half-written is offered or kept after a failure or a cancel (only a closed
            // tab leaves a file to resume). Best effort: a file that cannot be removed now is
            // swept when a page starts.
            let _ = staging.remove(&name).await;
            Err(error)
        }
    }
}

/// Writes the archive into `file` and closes it; returns the tar's sha256.
async fn stage(
    job: &StartExport,
    client: &RegistryClient,
    cancel: &CancelToken,
    planned: &Planned,
    mut file: SyncFile,
    emit: &mut dyn FnMut(DownloadEvent),
) -> Result<Digest, IoError> {
    let total = planned.archive.total_size();
    let written = fill(job, client, cancel, planned, &mut file, emit, total).await;
    // Closed before the caller removes a failed file (an open handle keeps it locked).
    let closed = file.close();
    written.and_then(|digest| closed.map(|()| digest))
}

async fn fill(
    job: &StartExport,
    client: &RegistryClient,
    cancel: &CancelToken,
    planned: &Planned,
    file: &mut SyncFile,
    emit: &mut dyn FnMut(DownloadEvent),
    total: u64,
) -> Result<Digest, IoError> {
    let mut buffer = ChunkBuffer::new(DEFAULT_CHUNK);
    let mut observer = ExportObserver::new(job.id, &planned.archive, emit);
    let from = kept(file, &planned.archive, total, &mut buffer, &mut observer)?;
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: RetryPolicy::default(),
        cancel,
        window: window_for_this_browser(),
    };
    let blobs = RegistryBlobs::new(client, &job.reference, cancel, &planned.urls);
    let mut sink = TarSink::resumed(file, &from);
    write_archive(
        &mut engine,
        &planned.archive,
        &blobs,
        &mut sink,
        &mut observer,
        from,
    )
    .await?;
    Ok(sink.finish())
}

/// What a closed tab left in the staged file (read back and checked), or nothing. Asks for the
/// whole size first, so that a full disk or quota fails before any download.
fn kept(
    file: &mut SyncFile,
    archive: &Archive,
    total: u64,
    buffer: &mut ChunkBuffer,
    observer: &mut ExportObserver<'_>,
) -> Result<Resumed, IoError> {
    use super::opfs::Sink as _;
    let written = file.size()?;
    file.set_len(total)?;
    if written == 0 || written > total {
        file.truncate(0)?;
        return Ok(Resumed::fresh());
    }
    file.set_len(written)?;
    let mut progress = |bytes| observer.report(bytes);
    resume::reread(file, archive, written, buffer, &mut progress)
}

/// Fetches the manifest (by digest) and config, and plans the archive.
pub async fn plan(job: &StartExport, client: &RegistryClient) -> Result<Planned, IoError> {
    if job.reference.digest().is_none() {
        return Err(IoError::Protocol {
            message: format!(
                "saving {} needs the image manifest's digest (look the image up first)",
                job.reference
            ),
        });
    }
    let fetched = client.manifest(&job.reference).await?;
    match &fetched.manifest {
        Manifest::Image(manifest) => plan_image(job, client, &fetched, manifest).await,
        Manifest::Schema1(schema1) => plan_schema1(job, client, &fetched, schema1).await,
        Manifest::Index(index) if !job.platforms.is_empty() => {
            platforms::plan_index(job, client, &fetched, index).await
        }
        Manifest::Index(_) => Err(IoError::Protocol {
            message: format!(
                "{} is a multi-platform index: choose a platform to save",
                job.reference
            ),
        }),
    }
}

async fn plan_image(
    job: &StartExport,
    client: &RegistryClient,
    fetched: &Fetched,
    manifest: &ImageManifest,
) -> Result<Planned, IoError> {
    let config = &manifest.config;
    let config_bytes = config_bytes(client, &job.reference, manifest).await?;
    let plan = ImagePlan {
        name: ImageName::from_reference(&job.reference),
        manifest: fetched.bytes.clone(),
        manifest_digest: fetched.digest.clone(),
        manifest_media_type: fetched.media_type().to_owned(),
        config: config_bytes,
        config_digest: config.digest.clone(),
        layers: manifest
            .layers
            .iter()
            .map(|l| BlobRef::new(l.digest.clone(), l.size))
            .collect(),
    };
    let format = archive_format(job.format);
    let urls = manifest
        .foreign_layers()
        .map(|l| (l.digest.clone(), l.urls.clone()))
        .collect();
    Ok(Planned {
        archive: plan.archive(format)?,
        manifest_digest: fetched.digest.clone(),
        urls,
    })
}

async fn plan_schema1(
    job: &StartExport,
    client: &RegistryClient,
    fetched: &Fetched,
    schema1: &Schema1,
) -> Result<Planned, IoError> {
    if job.format == ExportFormat::Oci {
        return Err(IoError::Protocol {
            message: "a schema 1 image has no OCI form: save it as a Docker archive (the \
                      legacy layout)"
                .into(),
        });
    }
    // Pinned by digest alone: the manifest names its tag.
    let named = match job.reference.tag() {
        Some(_) => job.reference.clone(),
        None => job.reference.with_tag(&schema1.tag)?,
    };
    let sizes = schema1_sizes(client, &job.reference, schema1).await?;
    let layers = schema1
        .layers()
        .iter()
        .rev()
        .map(|l| LegacyLayer {
            blob: BlobRef::new(l.blob_sum.clone(), sizes_of(&sizes, &l.blob_sum)),
            v1_compatibility: l.v1_compatibility.clone(),
        })
        .collect();
    let plan = LegacyPlan {
        name: ImageName::from_reference(&named),
        layers,
    };
    Ok(Planned {
        archive: plan.archive()?,
        manifest_digest: fetched.digest.clone(),
        urls: HashMap::new(),
    })
}

/// The size of each distinct non-empty blob of a schema 1 image, from `HEAD` requests.
async fn schema1_sizes(
    client: &RegistryClient,
    reference: &Reference,
    schema1: &Schema1,
) -> Result<HashMap<Digest, u64>, IoError> {
    let mut sizes = HashMap::new();
    for layer in schema1.layers() {
        let digest = &layer.blob_sum;
        if wharf_oci::archive::is_empty_layer(digest) || sizes.contains_key(digest) {
            continue;
        }
        let size = client.blob_size(reference, digest).await?;
        sizes.insert(digest.clone(), size);
    }
    Ok(sizes)
}

/// The image config of `manifest` (read into memory, verified).
async fn config_bytes(
    client: &RegistryClient,
    reference: &Reference,
    manifest: &ImageManifest,
) -> Result<Vec<u8>, IoError> {
    let config = &manifest.config;
    client
        .blob_bytes(reference, &config.digest, config.size, MAX_CONFIG_BYTES)
        .await
}

fn archive_format(format: ExportFormat) -> Format {
    match format {
        ExportFormat::Combined => Format::Combined,
        ExportFormat::Oci => Format::Oci,
    }
}

/// A blob's size: learned by `HEAD`, or the empty layer's fixed 32 bytes.
fn sizes_of(sizes: &HashMap<Digest, u64>, digest: &Digest) -> u64 {
    sizes
        .get(digest)
        .copied()
        .unwrap_or(wharf_oci::archive::EMPTY_LAYER_GZIP.len() as u64)
}

//! What starts archives and checks: **Save image**, **Save N entries as one archive**, and
//! **Stream the blobs through it too** (check-only jobs through a second relay).

use wharf_oci::{Digest, Reference};
use yew::prelude::*;

use super::Ctx;
use crate::download::{export_staged_name, ExportFormat, StartDownload, StartExport};
use crate::net::js;
use crate::state::Action;
use crate::view::{Blob, ImageView, Looked};

/// Saves the image as one archive (`<repo>_<tag>_<os>-<arch>.tar`), pinned by its manifest's
/// digest; the tag, if any, names it inside the archive.
pub fn export_image(ctx: &Ctx, looked: &Looked, image: &ImageView) -> Callback<ExportFormat> {
    let ctx = ctx.clone();
    let manifest = image.manifest_digest.clone();
    let reference = looked.reference.with_digest(manifest.clone());
    let stem = image.archive_stem.clone();
    Callback::from(move |format: ExportFormat| {
        if ctx.state.is_exporting(&manifest) || ctx.state.relays_disagree() {
            return;
        }
        let file_name = match format {
            ExportFormat::Combined => format!("{stem}.tar"),
            ExportFormat::Oci => format!("{stem}.oci.tar"),
        };
        begin_export(&ctx, &reference, file_name, format, Vec::new(), None);
    })
}

/// Saves the chosen entries of an index as one archive (`<repo>_<tag>_<n>-platforms.tar`),
/// pinned by the index's digest.
pub fn export_platforms(ctx: &Ctx, looked: &Looked) -> Callback<(ExportFormat, Vec<Digest>)> {
    let ctx = ctx.clone();
    let index = looked.digest.clone();
    let reference = looked.reference.with_digest(index.clone());
    let stem = crate::lookup::archive_stem(&looked.reference, None);
    Callback::from(move |(format, platforms): (ExportFormat, Vec<Digest>)| {
        if platforms.is_empty() || ctx.state.is_exporting(&index) || ctx.state.relays_disagree() {
            return;
        }
        let stem = format!("{stem}_{}-platforms", platforms.len());
        let file_name = match format {
            ExportFormat::Combined => format!("{stem}.tar"),
            ExportFormat::Oci => format!("{stem}.oci.tar"),
        };
        begin_export(&ctx, &reference, file_name, format, platforms, None);
    })
}

/// Starts an export of `reference` (pinned by digest) into `staged` (a file a closed tab left,
/// to resume) or a new staged file; remembered until it ends, so that a closed tab can resume it.
pub fn begin_export(
    ctx: &Ctx,
    reference: &Reference,
    file_name: String,
    format: ExportFormat,
    platforms: Vec<Digest>,
    staged: Option<String>,
) {
    let Some(pinned) = reference.digest().cloned() else {
        return;
    };
    let staged = staged.unwrap_or_else(|| export_staged_name(&pinned, format, js::now_ms()));
    let id = u64::from(ctx.state.upcoming_download());
    ctx.state.dispatch(Action::ExportStarted {
        file_name: file_name.clone(),
        manifest: pinned,
    });
    let credentials = ctx.registry.client.credentials_for(reference.registry());
    ctx.downloads.export(StartExport {
        id,
        reference: reference.clone(),
        file_name,
        format,
        staged_name: Some(staged),
        platforms,
        relay: ctx.relay.template.clone(),
        credentials: credentials.as_ref().map(Into::into),
    });
}

/// Streams every blob of the image again through the relay named (check-only jobs: verified
/// against the digests, nothing saved).
pub fn check_blobs(ctx: &Ctx, looked: &Looked, image: &ImageView) -> Callback<String> {
    let ctx = ctx.clone();
    let reference = looked.reference.clone();
    let blobs: Vec<Blob> = image
        .config_blob
        .iter()
        .chain(&image.layers)
        .cloned()
        .collect();
    Callback::from(move |shown: String| {
        let Some(relay) = ctx.relay.checks.iter().find(|r| r.to_string() == shown) else {
            return;
        };
        let credentials = ctx.registry.client.credentials_for(reference.registry());
        // The reducer numbers downloads in the order they start; the state seen here is the
        // one before this click, so the ids are counted on from it.
        let first = u64::from(ctx.state.upcoming_download());
        let sized = blobs.iter().filter_map(|b| b.size.map(|size| (b, size)));
        for (i, (blob, size)) in sized.enumerate() {
            let id = first + i as u64;
            ctx.state.dispatch(Action::DownloadStarted {
                file_name: format!("{} through {shown}", blob.file_name),
                digest: blob.digest.clone(),
                size,
                through: Some(shown.clone()),
            });
            ctx.downloads.start(StartDownload {
                id,
                reference: reference.clone(),
                digest: blob.digest.clone(),
                size,
                file_name: blob.file_name.clone(),
                relay: relay.clone(),
                credentials: credentials.as_ref().map(Into::into),
                check_only: true,
            });
        }
    })
}

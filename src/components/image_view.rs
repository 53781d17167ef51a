//! One image: config summary, layers and config each with **Download**, and **Save image**.

use yew::prelude::*;

use crate::components::download_button::DownloadButton;
use crate::download::ExportFormat;
use crate::view::{human_bytes, Blob, ConfigSummary, ImageView, Schema1Row};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub image: Box<ImageView>,
    /// Digests whose download is running.
    pub busy: Vec<wharf_oci::Digest>,
    /// An archive of this image is being saved (the Save buttons wait for it).
    pub exporting: bool,
    pub on_download: Callback<Blob>,
    pub on_export: Callback<ExportFormat>,
}

#[function_component(Image)]
pub fn image(props: &Props) -> Html {
    let img = &props.image;
    html! {
        <>
            <section class="panel" data-view="image">
                <h2>{ "Image" }
                    if let Some(p) = &img.platform { { " " }<span class="badge" data-chosen-platform={p.clone()}>{ p }</span> }
                </h2>
                if let Some(t) = &img.artifact_type { <p>{ "Artifact type " }<code>{ t }</code></p> }
                if let Some(config) = &img.config { { summary(config) } }
                { save_controls(props) }
            </section>
            { layers(props) }
            if !img.schema1.is_empty() { { schema1(&img.schema1) } }
        </>
    }
}

/// **Save image** (one tar for docker, podman and skopeo) and, for OCI and schema 2 images,
/// **Save OCI archive** (a pure OCI layout).
fn save_controls(props: &Props) -> Html {
    let img = &props.image;
    let save = props.on_export.reform(|_| ExportFormat::Combined);
    let save_oci = props.on_export.reform(|_| ExportFormat::Oci);
    let legacy = !img.schema1.is_empty();
    let total: u64 = img.layers.iter().filter_map(|l| l.size).sum();
    let size = match img.layers.iter().all(|l| l.size.is_some()) {
        true => format!("{} of layers", human_bytes(total)),
        false => "sizes asked when saving".to_owned(),
    };
    let readers = match legacy {
        true => "the legacy Docker layout of schema 1 images: docker load reads it",
        false => "docker load, podman load and skopeo read it",
    };
    let foreign = img.layers.iter().filter(|l| !l.urls.is_empty()).count();
    html! {
        <>
            <div class="row">
                <button class="primary" data-export="archive" onclick={save} disabled={props.exporting}>
                    { "Save image" }
                </button>
                if !legacy {
                    <button class="small" data-export="oci-archive" onclick={save_oci} disabled={props.exporting}>
                        { "Save OCI archive" }
                    </button>
                }
                <span class="hint">{ format!(" {}.tar — {readers} ({size}); every blob is verified", img.archive_stem) }</span>
            </div>
            if foreign > 0 {
                <p class="hint" data-foreign-layers={foreign.to_string()}>{ format!(
                    "{foreign} foreign layer(s): fetched from the registry, or else from the URL they name through the relay"
                ) }</p>
            }
        </>
    }
}

fn summary(c: &ConfigSummary) -> Html {
    let list = |v: &[String]| {
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.join(" ")
        }
    };
    let labels = c
        .labels
        .iter()
        .map(|(k, v)| html! { <div><code>{ k }</code>{ " = " }{ v }</div> });
    let env = c
        .env
        .iter()
        .map(|e| html! { <div><code>{ e }</code></div> });
    let history = c.history.iter().map(|h| html! {
        <tr class={classes!(h.empty_layer.then_some("muted"))}>
            <td>{ h.created.clone().unwrap_or_default() }</td><td><code>{ &h.created_by }</code></td>
        </tr>
    });
    html! {
        <>
            <dl class="facts" data-config="">
                <dt>{ "Platform" }</dt><dd><code>{ &c.os_arch }</code></dd>
                <dt>{ "Created" }</dt><dd>{ c.created.clone().unwrap_or_else(|| "—".into()) }</dd>
                <dt>{ "Entrypoint" }</dt><dd><code>{ list(&c.entrypoint) }</code></dd>
                <dt>{ "Cmd" }</dt><dd><code>{ list(&c.cmd) }</code></dd>
                if let Some(w) = &c.working_dir { <dt>{ "Working dir" }</dt><dd><code>{ w }</code></dd> }
                <dt>{ "Env" }</dt><dd>{ for env }</dd>
                <dt>{ "Labels" }</dt><dd>{ for labels }</dd>
            </dl>
            if !c.history.is_empty() {
                <details><summary>{ format!("History ({} steps)", c.history.len()) }</summary>
                    <div class="table-wrap"><table><tbody>{ for history }</tbody></table></div>
                </details>
            }
        </>
    }
}

fn layers(props: &Props) -> Html {
    let img = &props.image;
    let row = |kind: &str, blob: &Blob| {
        let b = blob.clone();
        let onclick = props.on_download.reform(move |_| b.clone());
        let busy = props.busy.contains(&blob.digest);
        html! {
            <tr data-blob={blob.digest.to_string()}>
                <td>{ kind }</td>
                <td class="digest">{ blob.digest.to_string() }</td>
                <td class="opt"><code>{ &blob.media_type }</code>
                    if !blob.urls.is_empty() { <div class="hint">{ "foreign layer: " }{ blob.urls.join(", ") }</div> }</td>
                <td class="num">{ blob.size.map(human_bytes).unwrap_or_else(|| "?".into()) }</td>
                <td><DownloadButton digest={blob.digest.clone()} {busy} {onclick}
                    what={format!("{kind} {}", blob.digest)} /></td>
            </tr>
        }
    };
    let config = img.config_blob.iter().map(|b| row("config", b));
    let layers = img
        .layers
        .iter()
        .enumerate()
        .map(|(i, b)| row(&format!("layer {}", i + 1), b));
    html! {
        <section class="panel">
            <h2>{ "Layers and config" }</h2>
            <div class="table-wrap"><table>
                <thead><tr><th><span class="visually-hidden">{ "Part" }</span></th><th>{ "Digest" }</th><th class="opt">{ "Media type" }</th>
                    <th class="num">{ "Size" }</th><th><span class="visually-hidden">{ "Save" }</span></th></tr></thead>
                <tbody>{ for config }{ for layers }</tbody>
            </table></div>
        </section>
    }
}

fn schema1(rows: &[Schema1Row]) -> Html {
    let rows = rows.iter().map(|r| html! {
        <tr class={classes!(r.empty.then_some("muted"))} data-schema1-layer={r.id.clone()}>
            <td class="digest">{ &r.id }</td><td class="digest opt">{ r.blob.to_string() }</td>
            <td>{ r.created.clone().unwrap_or_default() }</td><td><code>{ &r.command }</code></td>
        </tr>
    });
    html! {
        <section class="panel" data-view="schema1">
            <h2>{ "Schema 1 layers (fsLayers and history, bottom first)" }</h2>
            <div class="table-wrap"><table>
                <thead><tr><th>{ "Layer id" }</th><th class="opt">{ "Blob" }</th><th>{ "Created" }</th><th>{ "Command" }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </section>
    }
}

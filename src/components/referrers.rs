//! **Referrers**: what refers to the manifest in view (signatures, SBOMs, attestations), with
//! kind, artifact type, size and **Download** of an artifact's one layer; **Open** shows a
//! referrer's own manifest.

use wharf_oci::Digest;
use yew::prelude::*;

use crate::components::download_button::DownloadButton;
use crate::net::ReferrersSource;
use crate::referrers::{Found, ReferrerRow, ReferrersView};
use crate::view::{human_bytes, Blob};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub view: ReferrersView,
    /// Blobs being downloaded.
    pub busy: Vec<Digest>,
    pub on_download: Callback<Blob>,
    pub on_open: Callback<Digest>,
}

#[function_component(Referrers)]
pub fn referrers(props: &Props) -> Html {
    let (state, body) = match &props.view.found {
        Found::Looking => (
            "looking",
            html! { <p class="hint">{ "Looking for referrers…" }</p> },
        ),
        Found::None => (
            "none",
            html! { <p class="hint">{ "Nothing refers to this manifest (no signatures, SBOMs or attestations)." }</p> },
        ),
        Found::Failed(message) => (
            "failed",
            html! { <p class="hint">{ format!("Referrers could not be listed: {message}") }</p> },
        ),
        Found::Listed { rows, .. } if rows.is_empty() => (
            "none",
            html! { <p class="hint">{ "The registry lists no referrers for this manifest." }</p> },
        ),
        Found::Listed { source, rows } => ("listed", table(props, *source, rows)),
    };
    html! {
        <section class="panel" data-referrers={state} data-subject={props.view.subject.to_string()}>
            <h2>{ "Referrers" }</h2>
            { body }
        </section>
    }
}

fn table(props: &Props, source: ReferrersSource, rows: &[ReferrerRow]) -> Html {
    let how = match source {
        ReferrersSource::Api => "Listed by the registry's referrers API.",
        ReferrersSource::Tag => {
            "Listed under the sha256-… tag (this registry has no referrers API)."
        }
    };
    let rows = rows.iter().map(|row| referrer_row(props, row));
    html! {
        <>
            <p class="hint" data-referrers-source={format!("{source:?}").to_lowercase()}>{ how }</p>
            <div class="table-wrap"><table>
                <thead><tr>
                    <th>{ "Kind" }</th><th>{ "Artifact type" }</th><th class="num">{ "Size" }</th>
                    <th class="opt">{ "Created" }</th><th class="opt">{ "Digest" }</th>
                    <th><span class="visually-hidden">{ "Actions" }</span></th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </>
    }
}

fn referrer_row(props: &Props, row: &ReferrerRow) -> Html {
    let r = &row.referrer;
    let digest = r.digest.clone();
    let open = props.on_open.reform(move |_| digest.clone());
    let download = row.blob.as_ref().map(|blob| {
        let onclick = {
            let blob = blob.clone();
            props.on_download.reform(move |()| blob.clone())
        };
        let what = format!("the {} {}", r.kind.label(), blob.file_name);
        html! {
            <DownloadButton digest={blob.digest.clone()} busy={props.busy.contains(&blob.digest)}
                {onclick} what={what} />
        }
    });
    let size = row.blob.as_ref().and_then(|b| b.size).unwrap_or(r.size);
    html! {
        <tr data-referrer={r.digest.to_string()} data-kind={r.kind.label()}>
            <td>{ r.kind.label() }</td>
            <td><code>{ &r.artifact_type }</code></td>
            <td class="num">{ human_bytes(size) }</td>
            <td class="opt">{ r.created.clone().unwrap_or_default() }</td>
            <td class="digest opt">{ r.digest.to_string() }</td>
            <td>
                { for download }
                <button class="small" data-open-referrer={r.digest.to_string()} onclick={open}
                    aria-label={format!("Open the {} {}", r.kind.label(), r.digest)}>{ "Open" }</button>
            </td>
        </tr>
    }
}

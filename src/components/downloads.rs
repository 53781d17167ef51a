//! The list of downloads: progress, cancel, the verified sha256, the `sha256sum` line and the
//! **Expected digest** comparison.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::download::StagingPath;
use crate::state::{Download, DownloadId, DownloadStatus, ExpectedCheck};
use crate::view::{human_bytes, human_duration};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub downloads: std::collections::BTreeMap<DownloadId, Download>,
    pub on_cancel: Callback<DownloadId>,
    pub on_copy: Callback<String>,
    pub on_expected: Callback<(DownloadId, String)>,
    pub on_clear: Callback<()>,
    /// Where downloads are staged (the worker says so when it starts).
    pub staging: Option<StagingPath>,
}

#[function_component(Downloads)]
pub fn downloads(props: &Props) -> Html {
    if props.downloads.is_empty() {
        // A real (hidden) element, not `html! {}`: a component that renders nothing keeps a
        // stale position in yew 0.23, and a notice inserted before it after the view below was
        // replaced panics ("failed to insert node before next sibling").
        return html! { <div class="downloads-none" hidden=true></div> };
    }
    let items = props
        .downloads
        .iter()
        .rev()
        .map(|(id, d)| item(props, *id, d));
    let on_clear = props.on_clear.reform(|_| ());
    html! {
        <section class="panel" data-view="downloads">
            <h2>{ "Downloads" }</h2>
            <p class="visually-hidden" role="status" aria-live="polite" data-live="">
                { announcement(&props.downloads) }</p>
            { for items }
            <button class="small" onclick={on_clear}>{ "Clear finished" }</button>
            { staging_line(props.staging.as_ref()) }
        </section>
    }
}

/// One line: where downloads wait until verified, and what that means for resuming.
fn staging_line(staging: Option<&StagingPath>) -> Html {
    match staging {
        None => html! {},
        Some(StagingPath::Opfs) => html! {
            <p class="hint" data-staging="opfs">{ "Downloads wait in this browser's private file \
                system until verified; one a closed tab left unfinished resumes on the next visit." }</p>
        },
        Some(StagingPath::Memory { reason, ceiling }) => html! {
            <p class="hint" data-staging="memory">{ format!("Downloads wait in memory until \
                verified, up to {} each, because this browser gives no private file system \
                ({reason}); they resume only while this tab stays open.", human_bytes(*ceiling)) }</p>
        },
    }
}

/// What the live region says: the newest download's state, in words that change with the state,
/// not with every progress tick.
fn announcement(downloads: &std::collections::BTreeMap<DownloadId, Download>) -> String {
    let Some(d) = downloads.values().next_back() else {
        return String::new();
    };
    match &d.status {
        DownloadStatus::Running { .. } => format!("Downloading {}", d.file_name),
        DownloadStatus::Saved => format!("{} saved, sha256 verified", d.file_name),
        DownloadStatus::Checked => format!("{}: the same bytes", d.file_name),
        DownloadStatus::Failed { message, .. } => {
            format!("{} failed, nothing was saved: {message}", d.file_name)
        }
        DownloadStatus::Cancelled => format!("{} cancelled, nothing was saved", d.file_name),
    }
}

fn item(props: &Props, id: DownloadId, d: &Download) -> Html {
    let status = match &d.status {
        DownloadStatus::Running { bytes, rate, note } => running(props, id, d, *bytes, *rate, note),
        DownloadStatus::Saved => saved(props, id, d),
        DownloadStatus::Checked => html! {
            <p data-state="checked"><span class="badge ok">{ "same bytes" }</span>
                { format!(" {} served every byte of ", d.through.clone().unwrap_or_default()) }
                <span class="digest">{ d.digest.to_string() }</span>{ " (not saved)." }</p>
        },
        DownloadStatus::Failed { message, actual } => html! {
            <div data-state="failed">
                if let (Some(relay), Some(_)) = (&d.through, actual) {
                    <p role="alert"><strong class="bad-text" data-check-differs="">
                        { format!("{relay} served other bytes than the digest names: do not trust this image.") }
                    </strong></p>
                }
                <p class="bad-text" role="alert">{ message }</p>
                if d.export.is_some() {
                    <p class="hint">{ "Image manifest " }<span class="digest">{ d.digest.to_string() }</span></p>
                } else {
                    <p class="hint">{ "Expected " }<span class="digest" data-expected="">{ d.digest.to_string() }</span></p>
                }
                if let Some(actual) = actual {
                    <p class="hint">{ "Received " }<span class="digest bad-text" data-actual="">{ actual.to_string() }</span></p>
                }
                <p class="hint">{ "Nothing was saved." }</p>
            </div>
        },
        DownloadStatus::Cancelled => {
            html! { <p class="hint" data-state="cancelled">{ "Cancelled; nothing was saved." }</p> }
        }
    };
    let export_of = d.export.as_ref().map(|e| e.manifest.to_string());
    html! {
        <div class="download" data-download={d.digest.to_string()} data-file-name={d.file_name.clone()}
            data-through={d.through.clone()}
            data-export-of={export_of}>
            <div class="row"><span class="name">{ &d.file_name }</span>
                <span class="hint">{ human_bytes(d.size) }</span></div>
            { status }
        </div>
    }
}

fn running(
    props: &Props,
    id: DownloadId,
    d: &Download,
    bytes: u64,
    rate: Option<f64>,
    note: &Option<String>,
) -> Html {
    let percent = if d.size == 0 {
        // An archive's size is known once the worker planned it.
        if d.export.is_some() {
            0.0
        } else {
            100.0
        }
    } else {
        bytes as f64 * 100.0 / d.size as f64
    };
    let speed = rate
        .map(|r| format!("{}/s", human_bytes(r as u64)))
        .unwrap_or_default();
    let left = rate
        .filter(|r| *r > 0.0)
        .map(|r| {
            format!(
                "{} left",
                human_duration(d.size.saturating_sub(bytes) as f64 / r)
            )
        })
        .unwrap_or_default();
    let onclick = props.on_cancel.reform(move |_| id);
    html! {
        <div data-state="running">
            <progress max="100" value={format!("{percent:.1}")}
                aria-label={format!("Downloading {}", d.file_name)}></progress>
            <div class="row hint">
                <span>{ format!("{} of {} ({percent:.1}%)", human_bytes(bytes), human_bytes(d.size)) }</span>
                <span>{ speed }</span><span>{ left }</span>
                if let Some(note) = note { <span class="bad-text" data-note="">{ note }</span> }
                <button class="small" {onclick}>{ "Cancel" }</button>
            </div>
            { export_layer(d) }
        </div>
    }
}

/// For an archive: which blob is streaming (`layer 3 of 8`), and how far.
fn export_layer(d: &Download) -> Html {
    let Some(export) = &d.export else {
        return html! {};
    };
    let l = export.layer;
    let text = match l.layer {
        0 => "planning the archive (manifest, config, sizes)…".to_owned(),
        _ => format!(
            "layer {} of {}: {} of {}",
            l.layer,
            l.layers,
            human_bytes(l.bytes),
            human_bytes(l.size)
        ),
    };
    html! { <p class="hint" data-export-layer={format!("{}/{}", l.layer, l.layers)}>{ text }</p> }
}

fn saved(props: &Props, id: DownloadId, d: &Download) -> Html {
    let line = d.sha256sum_line();
    let copy = props.on_copy.reform(move |_| line.clone());
    let oninput = props.on_expected.reform(move |e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        (id, input.value())
    });
    let check = match d.expected_check() {
        ExpectedCheck::Nothing => html! {},
        ExpectedCheck::Matches => {
            html! { <span class="badge ok" data-expected-check="match">{ "matches" }</span> }
        }
        ExpectedCheck::Differs => {
            html! { <span class="badge bad" data-expected-check="differs">{ "DIFFERS" }</span> }
        }
        ExpectedCheck::Invalid(e) => {
            html! { <span class="bad-text" data-expected-check="invalid">{ e }</span> }
        }
    };
    let field = format!("expected-{id}");
    html! {
        <div data-state="saved">
            <p><span class="badge ok">{ "verified" }</span>{ " sha256 " }
                <span class="digest" data-verified={d.digest.to_string()}>{ d.digest.hex() }</span></p>
            if d.export.is_some() {
                <p class="hint">{ "Every blob verified while it streamed. The archive is deterministic: the same image gives this sha256 anywhere." }</p>
            }
            <div class="row">
                <button class="small" onclick={copy}>{ "Copy sha256sum line" }</button>
                <label for={field.clone()}>{ "Expected digest" }</label>
                <input id={field} class="mono" placeholder="sha256:… from elsewhere" {oninput}
                    value={d.expected_input.clone()} />
                { check }
            </div>
        </div>
    }
}

//! A **Download** button that carries the digest it will verify (`data-digest`).

use wharf_oci::Digest;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub digest: Digest,
    pub busy: bool,
    pub onclick: Callback<()>,
    #[prop_or(AttrValue::Static("Download"))]
    pub label: AttrValue,
    /// What it saves, for its accessible name: "Download layer 1 sha256:…".
    pub what: AttrValue,
}

#[function_component(DownloadButton)]
pub fn download_button(props: &Props) -> Html {
    let onclick = props.onclick.reform(|_| ());
    html! {
        <button class="small" data-digest={props.digest.to_string()} disabled={props.busy} {onclick}
            aria-label={format!("{} {}", props.label, props.what)}>
            { if props.busy { AttrValue::Static("Downloading…") } else { props.label.clone() } }
        </button>
    }
}

//! The bottles of a Homebrew bottle index, each with its **Download**.

use yew::prelude::*;

use crate::components::download_button::DownloadButton;
use crate::view::{human_bytes, BottleRow};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub rows: Vec<BottleRow>,
    /// Bottle tags whose download is running.
    pub busy: Vec<String>,
    /// The bottle tag a link named (`?bottle=`): that row is highlighted.
    pub linked: Option<String>,
    pub on_download: Callback<BottleRow>,
}

#[function_component(BottleTable)]
pub fn bottle_table(props: &Props) -> Html {
    let rows = props.rows.iter().map(|row| {
        let r = row.clone();
        let onclick = props.on_download.reform(move |_| r.clone());
        let busy = props.busy.contains(&row.tag);
        let linked = props.linked.as_deref() == Some(row.tag.as_str());
        html! {
            <tr data-bottle-tag={row.tag.clone()} class={classes!(linked.then_some("linked"))}
                data-linked={linked.then(String::new)} aria-current={linked.then(|| "true".to_owned())}>
                <td>{ &row.system }</td>
                <td>{ &row.cpu }</td>
                <td><code>{ &row.tag }</code></td>
                <td class="num">{ row.size.map(human_bytes).unwrap_or_default() }</td>
                <td class="digest opt">{ row.blob.to_string() }</td>
                <td><DownloadButton digest={row.blob.clone()} {busy} {onclick}
                    what={format!("bottle {} ({})", row.tag, row.file_name)} /></td>
            </tr>
        }
    });
    html! {
        <section class="panel">
            <h2>{ "Bottles" }</h2>
            <p class="hint">{ "Install a saved bottle with " }<code>{ "brew install ./<file>" }</code></p>
            <div class="table-wrap"><table>
                <thead><tr>
                    <th>{ "System" }</th><th>{ "CPU" }</th><th>{ "Bottle tag" }</th>
                    <th class="num">{ "Size" }</th><th class="opt">{ "Digest" }</th><th><span class="visually-hidden">{ "Save" }</span></th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </section>
    }
}

//! The platforms of an index; entries that are no runnable image (attestations, nested indexes,
//! artifacts, images without a platform) are marked with what they are, not offered.

use wharf_oci::Digest;
use yew::prelude::*;

use crate::view::{human_bytes, PlatformRow};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub rows: Vec<PlatformRow>,
    pub on_choose: Callback<Digest>,
}

#[function_component(PlatformTable)]
pub fn platform_table(props: &Props) -> Html {
    let rows = props.rows.iter().map(|row| {
        let digest = row.digest.clone();
        let onclick = props.on_choose.reform(move |_| digest.clone());
        let choose = match row.not_offered {
            Some(label) => html! { <span class="badge">{ label }</span> },
            None => html! {
                <button class="small" aria-label={format!("Choose {}", row.choice)} {onclick}>{ "Choose" }</button>
            },
        };
        html! {
            <tr data-platform={row.platform.clone()} data-choice={row.choice.clone()} class={classes!(row.not_offered.map(|_| "muted"))}>
                <td><code>{ &row.platform }</code></td>
                <td>{ row.os_version.clone().unwrap_or_default() }</td>
                <td class="num">{ human_bytes(row.size) }</td>
                <td class="digest opt">{ row.digest.to_string() }</td>
                <td>{ choose }</td>
            </tr>
        }
    });
    html! {
        <section class="panel">
            <h2>{ "Platforms" }</h2>
            <div class="table-wrap"><table>
                <thead><tr>
                    <th>{ "Platform" }</th><th>{ "OS version" }</th><th class="num">{ "Manifest size" }</th>
                    <th class="opt">{ "Digest" }</th><th><span class="visually-hidden">{ "Choose" }</span></th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </section>
    }
}

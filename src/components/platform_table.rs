//! The platforms of an index; entries that are no runnable image (attestations, nested indexes,
//! artifacts, images without a platform) are marked with what they are, not offered.
//!
//! Each image and attestation has a box: the ticked ones are saved as one archive (every image
//! is ticked at first, attestations are not). The table keeps which boxes are ticked; it emits
//! the chosen digests, in the index's order, with the format.

use std::collections::HashSet;

use wharf_oci::Digest;
use yew::prelude::*;

use crate::download::ExportFormat;
use crate::view::{human_bytes, PlatformRow};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub rows: Vec<PlatformRow>,
    pub on_choose: Callback<Digest>,
    /// Save the ticked entries as one archive.
    pub on_export: Callback<(ExportFormat, Vec<Digest>)>,
    /// An archive of this index is being written.
    pub exporting: bool,
}

#[function_component(PlatformTable)]
pub fn platform_table(props: &Props) -> Html {
    let picked = use_state(|| -> HashSet<Digest> {
        let ticked = props.rows.iter().filter(|r| r.in_archive == Some(true));
        ticked.map(|r| r.digest.clone()).collect()
    });
    let rows = props
        .rows
        .iter()
        .map(|row| platform_row(row, props, &picked));
    let chosen: Vec<Digest> = props
        .rows
        .iter()
        .filter(|r| picked.contains(&r.digest))
        .map(|r| r.digest.clone())
        .collect();
    html! {
        <section class="panel">
            <h2>{ "Platforms" }</h2>
            <div class="table-wrap"><table>
                <thead><tr>
                    <th><span class="visually-hidden">{ "In the archive" }</span></th>
                    <th>{ "Platform" }</th><th>{ "OS version" }</th><th class="num">{ "Manifest size" }</th>
                    <th class="opt">{ "Digest" }</th><th><span class="visually-hidden">{ "Choose" }</span></th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
            { save_row(props, chosen) }
        </section>
    }
}

fn platform_row(
    row: &PlatformRow,
    props: &Props,
    picked: &UseStateHandle<HashSet<Digest>>,
) -> Html {
    let digest = row.digest.clone();
    let onclick = props.on_choose.reform(move |_| digest.clone());
    let choose = match (row.not_offered, &row.attests) {
        (Some(label), Some((subject, choice))) => {
            let subject = subject.clone();
            let onclick = props.on_choose.reform(move |_| subject.clone());
            html! {
                <>
                    <span class="badge">{ label }</span>{ " of " }
                    <button class="link" data-attests={choice.clone()} {onclick}
                        aria-label={format!("Choose {choice}, which this attests")}>{ choice.clone() }</button>
                </>
            }
        }
        (Some(label), None) => html! { <span class="badge">{ label }</span> },
        (None, _) => html! {
            <button class="small" aria-label={format!("Choose {}", row.choice)} {onclick}>{ "Choose" }</button>
        },
    };
    let pick = row.in_archive.map(|_| {
        let digest = row.digest.clone();
        let checked = picked.contains(&row.digest);
        let picked = picked.clone();
        let onchange = Callback::from(move |_| {
            let mut now = (*picked).clone();
            if !now.remove(&digest) {
                now.insert(digest.clone());
            }
            picked.set(now);
        });
        let what = row.not_offered.unwrap_or("image");
        html! {
            <input type="checkbox" data-pick={row.choice.clone()} {checked}
                aria-label={format!("Put the {what} {} in the archive", row.choice)} {onchange} />
        }
    });
    html! {
        <tr data-platform={row.platform.clone()} data-choice={row.choice.clone()} class={classes!(row.not_offered.map(|_| "muted"))}>
            <td>{ for pick }</td>
            <td><code>{ &row.platform }</code></td>
            <td>{ row.os_version.clone().unwrap_or_default() }</td>
            <td class="num">{ human_bytes(row.size) }</td>
            <td class="digest opt">{ row.digest.to_string() }</td>
            <td>{ choose }</td>
        </tr>
    }
}

/// **Save N entries as one archive** and its OCI form.
fn save_row(props: &Props, chosen: Vec<Digest>) -> Html {
    let count = chosen.len();
    let disabled = count == 0 || props.exporting;
    let save = {
        let chosen = chosen.clone();
        props
            .on_export
            .reform(move |_| (ExportFormat::Combined, chosen.clone()))
    };
    let save_oci = props
        .on_export
        .reform(move |_| (ExportFormat::Oci, chosen.clone()));
    let label = match count {
        1 => "Save 1 entry as one archive".to_owned(),
        n => format!("Save {n} entries as one archive"),
    };
    html! {
        <div class="actions" data-save-platforms={count.to_string()}>
            <button class="primary" data-export="platforms" onclick={save} {disabled}>{ label }</button>
            <button class="small" data-export="platforms-oci" onclick={save_oci} {disabled}>{ "OCI archive" }</button>
            <p class="hint">{ "The ticked entries go into one tar that docker load, podman load and \
                skopeo copy --all read. Attestations stay out unless ticked." }</p>
        </div>
    }
}

//! Downloads a closed tab left unfinished: how much of each is staged, **Resume** (from those
//! bytes, checked with `Range`) and **Discard**.

use wharf_oci::Digest;
use yew::prelude::*;

use crate::unfinished::Unfinished;
use crate::view::human_bytes;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub unfinished: Vec<Unfinished>,
    pub on_resume: Callback<Digest>,
    pub on_discard: Callback<Digest>,
}

#[function_component(UnfinishedList)]
pub fn unfinished_list(props: &Props) -> Html {
    if props.unfinished.is_empty() {
        // A real (hidden) element: see the downloads list for why not `html! {}`.
        return html! { <div class="unfinished-none" hidden=true></div> };
    }
    let rows = props.unfinished.iter().map(|u| {
        let d = &u.download;
        let (resume, discard) = (d.digest.clone(), d.digest.clone());
        let on_resume = props.on_resume.reform(move |_| resume.clone());
        let on_discard = props.on_discard.reform(move |_| discard.clone());
        html! {
            <div class="download" data-unfinished={d.digest.to_string()}>
                <div class="row"><span class="name">{ &d.file_name }</span>
                    <span class="hint">{ staged(u) }</span></div>
                <p class="hint">{ format!("from {}", d.reference) }</p>
                <button class="small primary" onclick={on_resume}
                    aria-label={format!("Resume {}", d.file_name)}>{ "Resume" }</button>
                { " " }
                <button class="small" onclick={on_discard}
                    aria-label={format!("Discard {}", d.file_name)}>{ "Discard" }</button>
            </div>
        }
    });
    html! {
        <section class="panel" data-view="unfinished">
            <h2>{ "Unfinished downloads" }</h2>
            <p class="hint">{ "These were running when the tab closed. Resuming fetches only the rest; the whole file is checked against its sha256 before it is saved." }</p>
            { for rows }
        </section>
    }
}

/// "1.5 MiB of 4.0 MiB staged" (an archive's size is known once it is planned again).
fn staged(u: &Unfinished) -> String {
    match u.download.export {
        Some(_) => format!("{} of the archive staged", human_bytes(u.staged)),
        None => format!(
            "{} of {} staged",
            human_bytes(u.staged),
            human_bytes(u.download.size)
        ),
    }
}

//! The raw JSON of every fetched document, each with a copy button.

use yew::prelude::*;

use crate::view::RawDoc;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub docs: Vec<RawDoc>,
    pub on_copy: Callback<String>,
}

#[function_component(RawDocs)]
pub fn raw_docs(props: &Props) -> Html {
    let docs = props.docs.iter().map(|doc| {
        let json = doc.json.clone();
        let onclick = props.on_copy.reform(move |_| json.clone());
        html! {
            <details data-raw={doc.title.clone()}>
                <summary>{ &doc.title }</summary>
                <button class="small" {onclick}>{ "Copy JSON" }</button>
                <pre class="raw">{ &doc.json }</pre>
            </details>
        }
    });
    html! {
        <section class="panel">
            <h2>{ "Raw documents" }</h2>
            { for docs }
        </section>
    }
}

//! The reference field, **Look up** and **Tags** buttons.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub value: String,
    pub error: Option<String>,
    pub busy: bool,
    pub on_input: Callback<String>,
    pub on_lookup: Callback<String>,
    pub on_tags: Callback<String>,
}

const EXAMPLES: &[&str] = &[
    "alpine",
    "ghcr.io/homebrew/core/vim:9.0.1900",
    "quay.io/prometheus/node-exporter",
];

#[function_component(ReferenceForm)]
pub fn reference_form(props: &Props) -> Html {
    let input_ref = use_node_ref();
    let current = {
        let input_ref = input_ref.clone();
        let fallback = props.value.clone();
        move || {
            input_ref
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_else(|| fallback.clone())
        }
    };
    let onsubmit = {
        let on_lookup = props.on_lookup.clone();
        let current = current.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_lookup.emit(current());
        })
    };
    let on_tags = {
        let on_tags = props.on_tags.clone();
        Callback::from(move |_| on_tags.emit(current()))
    };
    let oninput = props.on_input.reform(|e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.value()
    });
    let examples = EXAMPLES.iter().enumerate().map(|(i, ex)| {
        let on_lookup = props.on_lookup.clone();
        let ex = (*ex).to_owned();
        let label = ex.clone();
        html! {
            <>
                if i > 0 { { " · " } }
                <button type="button" class="link" onclick={move |_| on_lookup.emit(ex.clone())}>
                    <code>{ label }</code>
                </button>
            </>
        }
    });
    html! {
        <section class="panel">
            <form class="lookup" {onsubmit}>
                <div class="field">
                    <label for="reference">{ "Image reference" }</label>
                    <input id="reference" name="reference" class="mono" ref={input_ref}
                        autocomplete="off" spellcheck="false" autocapitalize="off"
                        placeholder="alpine, ghcr.io/homebrew/core/vim:9.0.1900, quay.io/…"
                        value={props.value.clone()} {oninput}
                        aria-invalid={props.error.is_some().to_string()} />
                </div>
                <button type="submit" class="primary" disabled={props.busy}>{ "Look up" }</button>
                <button type="button" onclick={on_tags} disabled={props.busy}>{ "Tags" }</button>
            </form>
            if let Some(error) = &props.error {
                <p class="bad-text" role="alert" data-input-error="">{ error }</p>
            }
            <p class="hint">{ "Examples: " }{ for examples }</p>
        </section>
    }
}

//! The relay setting: a URL template with `{url}` or `{url_encoded}`, or `direct`.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub template: String,
    pub default_template: String,
    /// Why the last value was refused, if it was.
    pub error: Option<String>,
    pub on_save: Callback<String>,
}

#[function_component(Settings)]
pub fn settings(props: &Props) -> Html {
    let input_ref = use_node_ref();
    let onsubmit = {
        let input_ref = input_ref.clone();
        let on_save = props.on_save.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(input) = input_ref.cast::<HtmlInputElement>() {
                on_save.emit(input.value());
            }
        })
    };
    let reset = {
        let on_save = props.on_save.clone();
        let default = props.default_template.clone();
        Callback::from(move |_| on_save.emit(default.clone()))
    };
    html! {
        <section class="panel" data-view="settings">
            <h2>{ "Relay" }</h2>
            <form class="lookup" {onsubmit}>
                <div class="field">
                    <label for="relay">{ "Relay URL template" }</label>
                    <input id="relay" class="mono" ref={input_ref} value={props.template.clone()} />
                </div>
                <button type="submit" class="primary">{ "Save" }</button>
                <button type="button" onclick={reset}>{ "Default" }</button>
            </form>
            if let Some(error) = &props.error { <p class="bad-text" role="alert">{ error }</p> }
            <p class="hint">
                { "Registries send no CORS headers, so the page reaches them through a relay. Use " }
                <code>{ "{url}" }</code>{ " or " }<code>{ "{url_encoded}" }</code>
                { " for the registry URL, e.g. " }<code>{ "https://relay.example/relay/{url}" }</code>
                { ", or " }<code>{ "direct" }</code>{ " for registries that send CORS headers. Default: " }
                <code>{ &props.default_template }</code>
            </p>
        </section>
    }
}

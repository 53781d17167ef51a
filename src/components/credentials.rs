//! Credentials for one registry host, held for this tab only (never stored).

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the form emits: a host and either username + password or a token.
#[derive(Debug, Clone, PartialEq)]
pub struct Entered {
    pub host: String,
    pub username: String,
    pub secret: String,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub host: String,
    /// Hosts that have credentials for this tab.
    pub known: Vec<String>,
    pub on_save: Callback<Entered>,
    pub on_forget: Callback<String>,
}

#[function_component(Credentials)]
pub fn credentials(props: &Props) -> Html {
    let host_ref = use_node_ref();
    let user_ref = use_node_ref();
    let secret_ref = use_node_ref();
    let onsubmit = {
        let refs = (host_ref.clone(), user_ref.clone(), secret_ref.clone());
        let on_save = props.on_save.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let entered = Entered {
                host: value(&refs.0).trim().to_owned(),
                username: value(&refs.1),
                secret: value(&refs.2),
            };
            if let Some(input) = refs.2.cast::<HtmlInputElement>() {
                input.set_value("");
            }
            on_save.emit(entered);
        })
    };
    let known = props.known.iter().map(|host| {
        let h = host.clone();
        let onclick = props.on_forget.reform(move |_| h.clone());
        html! { <li><code>{ host }</code>{ " " }<button class="small" {onclick}>{ "Forget" }</button></li> }
    });
    html! {
        <section class="panel" data-view="credentials">
            <h2>{ "Credentials" }</h2>
            <form class="lookup" {onsubmit}>
                <div class="field"><label for="cred-host">{ "Registry" }</label>
                    <input id="cred-host" class="mono" ref={host_ref} value={props.host.clone()} /></div>
                <div class="field"><label for="cred-user">{ "Username" }</label>
                    <input id="cred-user" ref={user_ref} autocomplete="username" /></div>
                <div class="field"><label for="cred-secret">{ "Password or token" }</label>
                    <input id="cred-secret" type="password" ref={secret_ref} autocomplete="current-password" /></div>
                <button type="submit" class="primary">{ "Use for this tab" }</button>
            </form>
            <ul>{ for known }</ul>
            <p class="hint">
                { "Credentials stay in this tab only (never stored) and are sent only to that registry and its \
                   token server. A relay run by someone else can see them: use your own relay for private \
                   registries. Leave the username empty to use a token." }
            </p>
        </section>
    }
}

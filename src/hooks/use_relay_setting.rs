//! The relay setting, persisted in localStorage. Its default is this server's `/relay/{url}`
//! (the page is usually served by wharf-relay), or what `config.json` next to `index.html` says
//! (`{"relay": "https://relay.example/relay/{url}"}`) for static hosting.

use yew::prelude::*;

use crate::net::RelayTemplate;

const STORAGE_KEY: &str = "wharf.relay";
pub const BUILT_IN_DEFAULT: &str = "/relay/{url}";

#[derive(Debug, Clone, PartialEq)]
pub struct RelaySetting {
    pub template: RelayTemplate,
    /// As the user (or the default) wrote it.
    pub text: String,
    pub default_text: String,
    pub error: Option<String>,
}

impl RelaySetting {
    fn from_text(text: &str, default_text: &str) -> Self {
        let (template, error) = match RelayTemplate::parse(text) {
            Ok(t) => (t, None),
            Err(e) => (parse_or_builtin(default_text), Some(e.to_string())),
        };
        RelaySetting {
            template,
            text: text.to_owned(),
            default_text: default_text.to_owned(),
            error,
        }
    }
}

fn parse_or_builtin(text: &str) -> RelayTemplate {
    RelayTemplate::parse(text).unwrap_or_default()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn stored() -> Option<String> {
    storage()?.get_item(STORAGE_KEY).ok().flatten()
}

/// The setting and a callback that saves a new template text (invalid text is shown, not saved).
#[hook]
pub fn use_relay_setting() -> (RelaySetting, Callback<String>) {
    let setting = use_state(|| {
        let text = stored().unwrap_or_else(|| BUILT_IN_DEFAULT.to_owned());
        RelaySetting::from_text(&text, BUILT_IN_DEFAULT)
    });
    {
        let setting = setting.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(default) = configured_default().await {
                    let text = stored().unwrap_or_else(|| default.clone());
                    setting.set(RelaySetting::from_text(&text, &default));
                }
            });
        });
    }
    let save = {
        let setting = setting.clone();
        Callback::from(move |text: String| {
            let next = RelaySetting::from_text(&text, &setting.default_text);
            if next.error.is_none() {
                if let Some(s) = storage() {
                    let _ = s.set_item(STORAGE_KEY, text.trim());
                }
            }
            setting.set(next);
        })
    };
    ((*setting).clone(), save)
}

/// The `relay` of `config.json` next to the page, if there is one.
async fn configured_default() -> Option<String> {
    let window = web_sys::window()?;
    let promise = window.fetch_with_str("config.json");
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .into();
    if !response.ok() {
        return None;
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("relay")?.as_str().map(str::to_owned)
}

//! The relay setting, persisted in localStorage. Its default is this server's `/relay/{url}`
//! (the page is usually served by wharf-relay), or what `config.json` next to `index.html` says
//! (`{"relay": "https://relay.example/relay/{url}"}`) for static hosting. The setting may name
//! several relays (white space between them, or a list in `config.json`): the first is used, the
//! others are for **Check through another relay**.

use yew::prelude::*;

use crate::net::RelayTemplate;

const STORAGE_KEY: &str = "wharf.relay";
pub const BUILT_IN_DEFAULT: &str = "/relay/{url}";

#[derive(Debug, Clone, PartialEq)]
pub struct RelaySetting {
    pub template: RelayTemplate,
    /// Further relays the setting names, for **Check through another relay**.
    pub checks: Vec<RelayTemplate>,
    /// As the user (or the default) wrote it.
    pub text: String,
    pub default_text: String,
    pub error: Option<String>,
}

impl RelaySetting {
    fn from_text(text: &str, default_text: &str) -> Self {
        let (list, error) = match RelayTemplate::parse_list(text) {
            Ok(list) => (list, None),
            Err(e) => (parse_or_builtin(default_text), Some(e.to_string())),
        };
        let mut list = list.into_iter();
        let template = list.next().unwrap_or_default();
        RelaySetting {
            template,
            checks: list.collect(),
            text: text.to_owned(),
            default_text: default_text.to_owned(),
            error,
        }
    }
}

fn parse_or_builtin(text: &str) -> Vec<RelayTemplate> {
    RelayTemplate::parse_list(text).unwrap_or_else(|_| vec![RelayTemplate::default()])
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
    relay_of_config(&json)
}

/// `relay` in config.json: one template, or a list of them (the first is used, the others are
/// for **Check through another relay**).
fn relay_of_config(json: &serde_json::Value) -> Option<String> {
    match json.get("relay")? {
        serde_json::Value::String(one) => Some(one.clone()),
        serde_json::Value::Array(list) => {
            let all: Vec<&str> = list.iter().filter_map(serde_json::Value::as_str).collect();
            (!all.is_empty()).then(|| all.join(" "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::relay_of_config;
    use serde_json::json;

    #[test]
    fn config_names_one_relay_or_several() {
        let cases = [
            (json!({"relay": "/relay/{url}"}), Some("/relay/{url}")),
            (
                json!({"relay": ["https://a.example/relay/{url}", "https://b.example/relay/{url}"]}),
                Some("https://a.example/relay/{url} https://b.example/relay/{url}"),
            ),
            (json!({"relay": []}), None),
            (json!({"relay": 7}), None),
            (json!({}), None),
        ];
        for (config, want) in cases {
            assert_eq!(relay_of_config(&config).as_deref(), want, "{config}");
        }
    }
}

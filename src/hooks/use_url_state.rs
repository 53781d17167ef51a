//! The view in the address bar:
//! `?ref=<reference>&platform=<os[(os.version)]/arch[/variant]>&bottle=<tag>`
//! (or `&view=tags`), so a link opens the same view and back/forward work. A link never starts
//! a download: only views are encoded.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlState {
    pub reference: Option<String>,
    pub platform: Option<String>,
    pub bottle: Option<String>,
    pub tags: bool,
}

impl UrlState {
    /// Reads a query string (with or without the leading `?`). Unknown keys are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut state = UrlState::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim().to_owned();
            let slot = match key.as_ref() {
                "ref" => &mut state.reference,
                "platform" => &mut state.platform,
                "bottle" => &mut state.bottle,
                "view" => {
                    state.tags = value == "tags";
                    continue;
                }
                _ => continue,
            };
            *slot = (!value.is_empty()).then_some(value);
        }
        state
    }

    /// The query string, with the leading `?` (empty when there is nothing to say).
    pub fn to_query(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let pairs = [
            ("ref", &self.reference),
            ("platform", &self.platform),
            ("bottle", &self.bottle),
        ];
        for (key, value) in pairs {
            if let Some(v) = value {
                out.append_pair(key, v);
            }
        }
        if self.tags {
            out.append_pair("view", "tags");
        }
        let query = out.finish();
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    }
}

/// The address bar's current state.
pub fn current() -> UrlState {
    let search = web_sys::window().and_then(|w| w.location().search().ok());
    UrlState::from_query(&search.unwrap_or_default())
}

/// Records a new view in history (no-op when it is already the current one).
pub fn push(state: &UrlState) {
    if &current() == state {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window.location().pathname().unwrap_or_else(|_| "/".into());
    if let Ok(history) = window.history() {
        let url = format!("{path}{}", state.to_query());
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Calls `on_change` with the address bar's state after back/forward.
#[hook]
pub fn use_popstate(on_change: Callback<UrlState>) {
    use_effect_with((), move |_| {
        let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |_| on_change.emit(current()));
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ =
                w.add_event_listener_with_callback("popstate", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = window {
                let _ = w.remove_event_listener_with_callback(
                    "popstate",
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips() {
        let cases = [
            UrlState::default(),
            UrlState {
                reference: Some("alpine".into()),
                ..Default::default()
            },
            UrlState {
                reference: Some("localhost:5000/a/b@sha256:00".into()),
                platform: Some("linux/arm64/v8".into()),
                ..Default::default()
            },
            UrlState {
                reference: Some("ghcr.io/homebrew/core/vim:9.0.1900".into()),
                bottle: Some("big_sur".into()),
                ..Default::default()
            },
            UrlState {
                reference: Some("x y&z=".into()),
                tags: true,
                ..Default::default()
            },
        ];
        for state in cases {
            assert_eq!(
                UrlState::from_query(&state.to_query()),
                state,
                "{}",
                state.to_query()
            );
        }
    }

    #[test]
    fn reads_plain_links_and_ignores_noise() {
        let s = UrlState::from_query(
            "?ref=ghcr.io%2Fhomebrew%2Fcore%2Fvim%3A9.0.1900&x=1&platform=&download=1",
        );
        assert_eq!(
            s.reference.as_deref(),
            Some("ghcr.io/homebrew/core/vim:9.0.1900")
        );
        assert_eq!(s.platform, None);
        assert_eq!(UrlState::from_query("").to_query(), "");
    }
}

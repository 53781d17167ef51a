//! WebDriver commands fantoccini has no method for: a `POST` to a path under the session.

/// `POST /session/{id}/<path>` with a JSON body.
#[derive(Debug)]
pub struct SessionPost {
    path: &'static str,
    body: serde_json::Value,
}

impl SessionPost {
    /// The Permissions spec's WebDriver extension: grants `name` to the page's origin.
    pub fn set_permission(name: &str) -> SessionPost {
        let body = serde_json::json!({"descriptor": {"name": name}, "state": "granted"});
        SessionPost {
            path: "permissions",
            body,
        }
    }

    /// chromedriver's `goog/cdp/execute`: one Chrome DevTools Protocol command.
    pub fn cdp(cmd: &str, params: serde_json::Value) -> SessionPost {
        let body = serde_json::json!({"cmd": cmd, "params": params});
        SessionPost {
            path: "goog/cdp/execute",
            body,
        }
    }
}

impl fantoccini::wd::WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

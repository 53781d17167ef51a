//! A relay that lies (for the two-relay check): it answers `/relay/<url>` from another
//! registry than the one the URL names, with the CORS headers a relay sends. The registries are
//! real; only the path between page and registry is false, which is what the check is for.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{header, HeaderValue, Method, StatusCode};
use wharf_testkit::process::{bind_loopback, ServerTask};

struct Lie {
    /// `http://<host:port>` the page asks for, and the one answered from instead.
    asked: String,
    answered: String,
    http: reqwest::Client,
}

pub struct LyingRelay {
    pub base: String,
    _task: ServerTask,
}

impl LyingRelay {
    pub async fn start(asked: &str, answered: &str) -> LyingRelay {
        let listener = bind_loopback().await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let lie = Arc::new(Lie {
            asked: format!("http://{asked}"),
            answered: format!("http://{answered}"),
            http: reqwest::Client::new(),
        });
        let router = axum::Router::new().fallback(answer).with_state(lie);
        LyingRelay {
            base,
            _task: ServerTask::serve(listener, router),
        }
    }

    /// The relay setting for it.
    pub fn template(&self) -> String {
        format!("{}/relay/{{url}}", self.base)
    }
}

fn cors(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "accept, authorization, range",
        ),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD"),
        (header::ACCESS_CONTROL_EXPOSE_HEADERS, "*"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

async fn answer(State(lie): State<Arc<Lie>>, request: Request) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        Response::new(Body::empty())
    } else {
        forward(&lie, request).await
    };
    cors(&mut response);
    response
}

async fn forward(lie: &Lie, request: Request) -> Response {
    let target = request.uri().path().trim_start_matches("/relay/");
    let target = match request.uri().query() {
        Some(query) => format!("{target}?{query}"),
        None => target.to_owned(),
    };
    let target = target.replacen(&lie.asked, &lie.answered, 1);
    let mut upstream = lie.http.get(&target);
    if let Some(accept) = request.headers().get(header::ACCEPT) {
        upstream = upstream.header(header::ACCEPT, accept);
    }
    let Ok(answer) = upstream.send().await else {
        let mut response = Response::new(Body::from("upstream unreachable"));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        return response;
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for name in [
        header::CONTENT_TYPE,
        "docker-content-digest".parse().expect("name"),
    ] {
        if let Some(value) = headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

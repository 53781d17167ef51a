//! The `wharf-relay` binary: flags and `WHARF_RELAY_*` variables, the page from `--dist` (or `dist/`),
//! and startup errors.

mod common;

use common::{client, RunningRelay, Subprocess};
use reqwest::header::ORIGIN;
use std::process::Command;
use wharf_testkit::{Mode, Registry};

fn write_dist(dir: &std::path::Path, with_config: bool) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>wharf</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log('wharf')").unwrap();
    if with_config {
        std::fs::write(dir.join("config.json"), r#"{"relay":"/relay/"}"#).unwrap();
    }
}

async fn get(url: String) -> (u16, String) {
    let response = client().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn flags_and_environment() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let other = Registry::start(Mode::Anonymous).await.unwrap();
    let env_hosts = format!(
        "http://127.0.0.1:{},http://localhost:{}",
        registry.port(),
        registry.port()
    );
    let flag_host = format!("http://127.0.0.1:{}", other.port());
    let relay = Subprocess::start(
        &[
            "--allow-host",
            &flag_host,
            "--allow-origin",
            "https://page.example",
        ],
        &[("WHARF_RELAY_ALLOW_HOST", &env_hosts)],
    );
    let base = format!("http://{}", relay.addr);
    assert_eq!(get(format!("{base}/healthz")).await.0, 200);

    // clap: a flag replaces the environment variable, so only the flag's host is allowed here.
    let (status, _) = get(relay.relay_url(other.v2_url("").as_str())).await;
    assert_eq!(status, 200);
    let (status, body) = get(relay.relay_url(registry.v2_url("").as_str())).await;
    assert_eq!(status, 403, "{body}");

    let page = client()
        .get(relay.relay_url(other.v2_url("").as_str()))
        .header(ORIGIN, "https://page.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()["access-control-allow-origin"],
        "https://page.example"
    );

    // Environment alone (comma-separated list).
    let relay = Subprocess::start(&[], &[("WHARF_RELAY_ALLOW_HOST", &env_hosts)]);
    let (status, _) = get(relay.relay_url(registry.v2_url("").as_str())).await;
    assert_eq!(status, 200);
    let localhost = registry
        .v2_url("")
        .as_str()
        .replace("127.0.0.1", "localhost");
    assert_eq!(get(relay.relay_url(&localhost)).await.0, 200);
    assert_eq!(get(relay.relay_url(other.v2_url("").as_str())).await.0, 403);
}

#[tokio::test]
async fn serves_the_page_from_dist() {
    let dir = tempfile::tempdir().unwrap();
    write_dist(dir.path(), true);
    let relay = Subprocess::start(&["--dist", dir.path().to_str().unwrap()], &[]);
    let base = format!("http://{}", relay.addr);
    let index = "<!doctype html><title>wharf</title>";
    for path in ["/", "/?ref=alpine:3.20", "/some/spa/path", "/index.html"] {
        assert_eq!(
            get(format!("{base}{path}")).await,
            (200, index.to_owned()),
            "{path}"
        );
    }
    assert_eq!(
        get(format!("{base}/assets/app.js")).await,
        (200, "console.log('wharf')".to_owned())
    );
    let config = client()
        .get(format!("{base}/config.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(config.status().as_u16(), 200);
    assert_eq!(config.headers()["content-type"], "application/json");
    assert_eq!(config.text().await.unwrap(), r#"{"relay":"/relay/"}"#);
}

#[tokio::test]
async fn default_dist_and_missing_config_json() {
    let dir = tempfile::tempdir().unwrap();
    write_dist(&dir.path().join("dist"), false);
    let relay = Subprocess::start_in(Some(dir.path()), &[], &[]);
    let base = format!("http://{}", relay.addr);
    assert_eq!(get(format!("{base}/")).await.0, 200);
    // Without the file, config.json is a 404, never the index in its place.
    assert_eq!(get(format!("{base}/config.json")).await.0, 404);

    // No dist at all: the page paths are 404 JSON, the relay still works.
    let empty = tempfile::tempdir().unwrap();
    let relay = Subprocess::start_in(Some(empty.path()), &[], &[]);
    let (status, body) = get(format!("http://{}/", relay.addr)).await;
    assert_eq!(status, 404);
    assert!(body.contains("not found"), "{body}");
    assert_eq!(get(format!("http://{}/healthz", relay.addr)).await.0, 200);
}

#[test]
fn bad_startup_arguments_fail_clearly() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wharf-relay"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("WHARF_RELAY_ALLOW_HOST")
            .output()
            .unwrap()
    };
    let out = run(&["--allow-host", "ftp://registry.example:21"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("scheme must be http or https"));
    let out = run(&["--dist", "/nonexistent/wharf-dist"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a folder"));
    let out = run(&["--allow-origin", "https://page.example/path"]);
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_wharf-relay"))
        .args(["--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}

/// Logs name method, host, path, status and bytes, and never a credential or a query string, even at
/// the most verbose level.
#[tokio::test]
async fn logs_hold_no_credentials() {
    let registry = Registry::start(Mode::Redirect).await.unwrap();
    let blob = registry
        .push_blob("logs/blob", vec![7u8; 4096])
        .await
        .unwrap();
    let cdn_port = registry.cdn().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("relay.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let allow = format!(
        "http://127.0.0.1:{},http://localhost:{cdn_port}",
        registry.port()
    );
    let relay = Subprocess::spawn(
        None,
        &[],
        &[("WHARF_RELAY_ALLOW_HOST", &allow), ("RUST_LOG", "trace")],
        std::process::Stdio::from(log),
    );
    let http = client();
    let blob_url = registry.v2_url(&format!("logs/blob/blobs/{}", blob.digest));
    let with_query = format!("{blob_url}?X-Amz-Signature=SECRET-SIGNATURE");
    let response = http
        .get(relay.relay_url(&with_query))
        .header("authorization", "Bearer SECRET-TOKEN")
        .header("cookie", "session=SECRET-COOKIE")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap().len(), 4096);
    let refused = http
        .get(relay.relay_url("http://10.0.0.1/v2/?token=SECRET-QUERY"))
        .header("authorization", "Basic U0VDUkVULUJBU0lD")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    drop(relay);

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("relayed"), "no transfer line in:\n{text}");
    assert!(
        text.contains("outcome=\"complete\""),
        "transfer not complete:\n{text}"
    );
    assert!(text.contains(blob_url.path()), "path not logged:\n{text}");
    assert!(
        text.contains("bytes=4096"),
        "byte count not logged:\n{text}"
    );
    for secret in ["SECRET", "U0VDUkVULUJBU0lD"] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{secret} logged: {leaks:#?}");
    }
}

/// The Worker on workerd, started as `cargo xtask worker` starts it, stops cleanly on SIGTERM: it
/// exits 0 and its port refuses connections afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_stops_cleanly_on_sigterm() {
    let mut relay = wharf_testkit::WorkerdRelay::start(&[])
        .await
        .expect("workerd");
    let (status, body) = get(format!("{}/healthz", relay.base())).await;
    assert_eq!(status, 200, "{body}");
    let exit = relay.terminate(std::time::Duration::from_secs(15));
    assert!(
        exit.is_some_and(|s| s.success()),
        "workerd after SIGTERM: {exit:?}"
    );
    assert!(
        std::net::TcpStream::connect(relay.addr).is_err(),
        "the port still accepts connections"
    );
}

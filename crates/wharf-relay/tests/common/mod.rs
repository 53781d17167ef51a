//! Shared helpers of the relay's integration tests: the relay in-process or as a subprocess, a loopback
//! listener that counts connections, and sha256 of streamed bodies.

#![allow(dead_code)] // each test binary uses a different subset

use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;
use wharf_relay::{AllowHost, Config};
pub use wharf_testkit::RunningRelay;

mod driver;
#[allow(unused_imports)] // each test binary uses a different subset
pub use driver::{assert_fields, relay, Driver, Relay};

/// A relay served in-process on a free loopback port; stopped on drop.
pub struct InProcess {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InProcess {
    pub async fn start(config: Config) -> InProcess {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let app = wharf_relay::app(config);
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        InProcess { addr, task }
    }
}

impl RunningRelay for InProcess {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The test's own process: the relay runs on its runtime.
    fn pid(&self) -> u32 {
        std::process::id()
    }
}

/// `--allow-host` entries for plain-http loopback servers.
pub fn allow(entries: &[String]) -> Vec<AllowHost> {
    entries
        .iter()
        .map(|e| e.parse().expect("allow-host entry"))
        .collect()
}

/// `http://127.0.0.1:<port>` and `http://localhost:<port>`.
pub fn loopback_entries(port: u16) -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ]
}

/// A config that allows these loopback ports (both names), with short timeouts for tests.
pub fn config_for_ports(ports: &[u16]) -> Config {
    let entries: Vec<String> = ports.iter().flat_map(|p| loopback_entries(*p)).collect();
    Config {
        allow_hosts: allow(&entries),
        idle_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// A plain client for talking to the relay (no redirects, no proxy).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client")
}

/// Streams a response body into sha256; returns (hex digest, byte count) or the transfer error.
pub async fn sha256_of(response: reqwest::Response) -> Result<(String, u64), reqwest::Error> {
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok((hex(&hasher.finalize()), bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A loopback listener that counts accepted connections and closes them at once.
pub struct Counter {
    pub addr: SocketAddr,
    count: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Counter {
    pub async fn start(bind: &str) -> Counter {
        let listener = TcpListener::bind(bind).await.expect("bind counter");
        let addr = listener.local_addr().expect("counter addr");
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        Counter { addr, count, task }
    }

    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// The relay binary as a child process; killed and reaped on drop.
pub struct Subprocess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Subprocess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Subprocess {
    /// Starts `wharf-relay --listen 127.0.0.1:0 <args>` and reads the port from its first line.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Subprocess {
        Self::start_in(None, args, envs)
    }

    /// Like [`Subprocess::start`], in a working directory.
    pub fn start_in(
        cwd: Option<&std::path::Path>,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Subprocess {
        Self::spawn(cwd, args, envs, Stdio::inherit())
    }

    /// Like [`Subprocess::start_in`], with stderr (the logs) going to `stderr`.
    pub fn spawn(
        cwd: Option<&std::path::Path>,
        args: &[&str],
        envs: &[(&str, &str)],
        stderr: Stdio,
    ) -> Subprocess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wharf-relay"));
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("WHARF_RELAY_LISTEN")
            .env_remove("WHARF_RELAY_ALLOW_HOST")
            .env_remove("WHARF_RELAY_ALLOW_ORIGIN")
            .env_remove("WHARF_RELAY_DIST")
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command.spawn().expect("spawn wharf-relay");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read first line");
        let addr = line
            .trim()
            .strip_prefix("wharf-relay listening on http://")
            .and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unexpected first line from wharf-relay: {line:?}");
        };
        Subprocess { child, addr }
    }
}

impl RunningRelay for Subprocess {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
pub fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field in /proc status")
}

/// The target URL as text (without the trailing slash `Url` adds to bare hosts left alone).
pub fn target(url: &Url) -> String {
    url.as_str().to_owned()
}

/// What a [`Raw`] server does after writing its canned bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// Close the connection.
    Close,
    /// Keep it open without sending anything more.
    Stall,
}

/// A loopback HTTP/1.1 server that answers every request with fixed raw bytes (to produce exactly the
/// headers and truncations a test needs), then closes or stalls.
pub struct Raw {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Raw {
    pub async fn start(response: Vec<u8>, after: After) -> Raw {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind raw");
        let addr = listener.local_addr().expect("raw addr");
        let response = Arc::new(response);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let response = Arc::clone(&response);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    if socket.write_all(&response).await.is_err() {
                        return;
                    }
                    let _ = socket.flush().await;
                    if after == After::Stall {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                });
            }
        });
        Raw { addr, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }
}

//! The relay as a Worker on workerd, started like `cargo xtask worker` (the same config and
//! command, from `wharf_relay_worker::launch`): the second relay driver of the relay tests,
//! journeys and benchmarks. The Worker must be built first (`cargo xtask worker`, which
//! `cargo xtask test` and `cargo xtask bench` do).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wharf_relay_worker::launch::{workerd_in, Flags, Launch};

use crate::error::{Error, Result};
use crate::process::{log_tail, ChildGuard};
use crate::relay::RunningRelay;

/// workerd serving the relay Worker on a loopback port; killed on drop.
#[derive(Debug)]
pub struct WorkerdRelay {
    pub addr: SocketAddr,
    child: ChildGuard,
    dir: tempfile::TempDir,
}

/// The repository root (the test kit lives at `crates/wharf-testkit`).
fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).unwrap_or(here).to_path_buf()
}

impl WorkerdRelay {
    /// Starts workerd with `wharf-relay`-style flags (`--allow-host URL`, `--allow-origin O`,
    /// `--allow-public-host URL`, `--max-redirects N`) on a free loopback port and waits until
    /// `/healthz` answers.
    pub async fn start(flags: &[&str]) -> Result<WorkerdRelay> {
        let args: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        let flags = Flags::parse(&args).map_err(|reason| Error::Protocol { reason })?;
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(Error::io("binding workerd's port"))?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("workerd's address"))?;
        let dir = tempfile::tempdir().map_err(Error::io("workerd's folder"))?;
        let root = root();
        let launch = Launch {
            workerd: workerd_in(&root),
            build: root.join("crates/wharf-relay-worker/build"),
            dir: dir.path().to_path_buf(),
        };
        let command = launch
            .command(&flags, &listener)
            .map_err(|reason| Error::Protocol { reason })?;
        let log = dir.path().join("workerd.log");
        let child = ChildGuard::spawn(command, &log)?;
        // workerd holds its own copy of the socket now.
        drop(listener);
        let relay = WorkerdRelay { addr, child, dir };
        relay.wait_ready().await?;
        Ok(relay)
    }

    async fn wait_ready(&self) -> Result<()> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::Protocol {
                reason: e.to_string(),
            })?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let answer = client.get(format!("{}/healthz", self.base())).send().await;
            if matches!(&answer, Ok(r) if r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Error::Startup {
            reason: "workerd did not answer /healthz within 30 s".into(),
            log: log_tail(&self.log(), 4000),
        })
    }

    /// Stops workerd with SIGTERM, as a service manager would; its exit status, or None if it
    /// did not exit within `within`.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        self.child.terminate(within)
    }

    /// workerd's log (what the Worker and workerd wrote).
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("workerd.log")
    }
}

impl RunningRelay for WorkerdRelay {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// workerd's process id.
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

//! `wharf-relay` as a subprocess (the release binary, as `cargo xtask run` starts it), so that its
//! memory can be read from `/proc`.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wharf_testkit::RunningRelay;

use crate::error::{Error, Result};
use crate::procs::Group;

const LISTENING: &str = "wharf-relay listening on ";

pub struct RelayProcess {
    process: Group,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

impl RelayProcess {
    /// Starts `binary --listen 127.0.0.1:0 --dist <dist> --allow-host <h>... <extra>...` and waits
    /// for its "listening" line. Its log goes to `log`.
    pub async fn start(binary: &Path, dist: &Path, allow: &[String], log: &Path) -> Result<Self> {
        Self::start_with(binary, dist, allow, log, &[]).await
    }

    /// Like [`RelayProcess::start`], with more flags.
    pub async fn start_with(
        binary: &Path,
        dist: &Path,
        allow: &[String],
        log: &Path,
        extra: &[&str],
    ) -> Result<Self> {
        let log_file =
            std::fs::File::create(log).map_err(Error::io(format!("{}", log.display())))?;
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--dist"])
            .arg(dist)
            .stdout(Stdio::piped())
            .stderr(log_file);
        for host in allow {
            command.args(["--allow-host", host]);
        }
        command.args(extra);
        let mut process = Group::spawn(command, "wharf-relay")?;
        let stdout = process
            .stdout()
            .ok_or_else(|| Error::Failed("the relay's stdout is not piped".into()))?;
        // One line, read on a blocking thread; the timeout covers a relay that never answers.
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let line = tokio::time::timeout(Duration::from_secs(20), line)
            .await
            .map_err(|_| Error::Failed("wharf-relay did not say it listens within 20 s".into()))?
            .map_err(|e| Error::Failed(format!("reading the relay's stdout: {e}")))?
            .map_err(Error::io("reading the relay's stdout"))?;
        let base = parse_listening(&line).ok_or_else(|| {
            Error::Failed(format!("wharf-relay said {line:?} (see {})", log.display()))
        })?;
        Ok(RelayProcess { process, base })
    }

    pub fn name(&self) -> &str {
        self.process.name()
    }
}

fn parse_listening(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix(LISTENING)?;
    url.starts_with("http://")
        .then(|| url.trim_end_matches('/').to_owned())
}

impl RunningRelay for RelayProcess {
    fn base(&self) -> String {
        self.base.clone()
    }

    fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// An HTTP client whose connections leave from `source` (a 127.0.0.x address), so that the relay
/// counts it as a client of its own.
pub fn client_from(source: [u8; 4]) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(IpAddr::from(source))
        .build()
        .map_err(|e| Error::Failed(format!("bench client from {source:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::parse_listening;

    #[test]
    fn listening_line() {
        let cases = [
            (
                "wharf-relay listening on http://127.0.0.1:4242\n",
                Some("http://127.0.0.1:4242"),
            ),
            ("wharf-relay listening on ftp://x\n", None),
            ("", None),
            ("error: cannot listen\n", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_listening(line).as_deref(), want, "{line:?}");
        }
    }
}

//! Child processes and in-process servers that are always cleaned up: a [`ChildGuard`] kills
//! and waits its process on drop (also while a test panics), a [`ServerTask`] aborts its tokio
//! task on drop. Plus free loopback ports and running a tool to completion.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};

/// A child process that is killed (SIGKILL) and reaped when the guard is dropped.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    program: String,
}

impl ChildGuard {
    /// Spawns `command` with stdout and stderr appended to `log`.
    pub fn spawn(mut command: Command, log: &Path) -> Result<ChildGuard> {
        let program = command.get_program().to_string_lossy().into_owned();
        let out =
            std::fs::File::create(log).map_err(Error::io(format!("creating {}", log.display())))?;
        let err = out.try_clone().map_err(Error::io("cloning a log handle"))?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = command.spawn().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::MissingTool {
                program: program.clone(),
            },
            _ => Error::Io {
                context: format!("spawning {program}"),
                source,
            },
        })?;
        Ok(ChildGuard { child, program })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(description)` when the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its status, or None if it
    /// was still running (it is then killed on drop).
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        if !sent.is_ok_and(|s| s.success()) {
            return None;
        }
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    pub fn program(&self) -> &str {
        &self.program
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Killing an already-exited child fails harmlessly; wait() reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tokio task (an in-process server) that is aborted when dropped.
#[derive(Debug)]
pub struct ServerTask(JoinHandle<()>);

impl ServerTask {
    /// Serves `router` on `listener` until dropped.
    pub fn serve(listener: TcpListener, router: axum::Router) -> ServerTask {
        ServerTask(tokio::spawn(async move {
            // An accept error ends the server; tests then see connection errors.
            let _ = axum::serve(listener, router).await;
        }))
    }
}

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Binds a listener on a free port of 127.0.0.1 (the port is ours from here on: no race).
pub async fn bind_loopback() -> Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(Error::io("binding a loopback port"))
}

/// A port that was free a moment ago, for programs that bind it themselves. Another process may
/// take it before they do: callers retry (see `Registry::start`).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(Error::io("finding a free port"))?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(Error::io("reading a bound address"))?;
    Ok(addr.port())
}

/// `http://<host>:<port>/` for a loopback host name or address.
pub fn host_url(host: &str, port: u16) -> url::Url {
    url::Url::parse(&format!("http://{host}:{port}/"))
        .expect("a loopback host name and a port always form a valid URL")
}

/// Runs a program to completion; fails with its stderr when it exits unsuccessfully.
pub async fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::MissingTool {
                program: program.to_owned(),
            },
            _ => Error::Io {
                context: format!("running {program}"),
                source,
            },
        })?;
    if !output.status.success() {
        return Err(Error::Command {
            program: program.to_owned(),
            args: redact_args(args),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Arguments for an error message, with the value after any `--*creds` flag hidden.
fn redact_args(args: &[&str]) -> String {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            out.push("<redacted>");
            hide_next = false;
            continue;
        }
        if arg.contains("creds") {
            if arg.contains('=') {
                out.push("--creds=<redacted>");
                continue;
            }
            hide_next = true;
        }
        out.push(arg);
    }
    out.join(" ")
}

/// The last `max` bytes of a log file (for startup errors).
pub fn log_tail(path: &Path, max: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    String::from_utf8_lossy(text.get(start..).unwrap_or_default()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden_from_command_errors() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["copy", "--dest-creds", "a:b", "x"],
                "copy --dest-creds <redacted> x",
            ),
            (&["--creds=a:b"], "--creds=<redacted>"),
            (&["inspect", "x"], "inspect x"),
        ];
        for (args, want) in cases {
            assert_eq!(redact_args(args), *want);
        }
    }

    #[test]
    fn a_guarded_child_is_reaped_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sleep");
        command.arg("30");
        let guard = ChildGuard::spawn(command, &dir.path().join("log")).unwrap();
        let pid = guard.id();
        drop(guard);
        // After kill + wait the pid is gone (no zombie left in /proc).
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}

//! Child processes that die with their guard (their whole process group), timed commands, and
//! memory readings from `/proc` (VmRSS, VmHWM, resetting the peak with `clear_refs`).

use std::collections::HashMap;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A child in its own process group; the group is killed (SIGKILL) and the child reaped on drop.
#[derive(Debug)]
pub struct Group {
    child: std::process::Child,
    name: String,
}

impl Group {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(mut command: Command, name: &str) -> Result<Group> {
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(Error::io(format!("starting {name}")))?;
        Ok(Group {
            child,
            name: name.to_owned(),
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // `kill -- -PGID` signals the whole group the child leads (Chromium below chromedriver).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `sh -c script` to completion (killed if the future is dropped); returns the wall time
/// and stdout, or an error with stderr when it fails.
pub async fn timed_sh(script: &str) -> Result<(Duration, String)> {
    let mut command = tokio::process::Command::new("sh");
    command
        .args(["-c", script])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let start = Instant::now();
    let out = command
        .output()
        .await
        .map_err(Error::io(format!("running {script}")))?;
    let took = start.elapsed();
    if !out.status.success() {
        return Err(Error::Failed(format!(
            "`{script}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok((took, String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Single-quotes `s` for `sh`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A `kB` field (`VmRSS`, `VmHWM`) of `/proc/<pid>/status`, in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak RSS (`VmHWM`) of `pid` to its current RSS (Linux >= 4.0, as root).
pub fn reset_peak(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .map_err(Error::io(format!("resetting the peak RSS of {pid}")))
}

/// Every process (pid -> parent pid).
fn parents() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return map;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            map.insert(pid, ppid);
        }
    }
    map
}

/// The descendants of `root` whose command line contains `needle` (e.g. `--type=renderer`).
pub fn descendants_with(root: u32, needle: &str) -> Vec<u32> {
    let parents = parents();
    let below = |mut pid: u32| {
        for _ in 0..64 {
            match parents.get(&pid) {
                Some(&p) if p == root => return true,
                Some(&p) if p > 1 => pid = p,
                _ => return false,
            }
        }
        false
    };
    parents
        .keys()
        .copied()
        .filter(|&pid| below(pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// The summed RSS of the renderer processes (pages and their workers) of a Chromium started
/// below `root`.
pub fn renderer_rss(root: u32) -> u64 {
    descendants_with(root, "--type=renderer")
        .into_iter()
        .filter_map(|pid| status_bytes(pid, "VmRSS"))
        .sum()
}

/// Samples a value every `every` on a thread until stopped; keeps the maximum.
pub struct PeakSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl PeakSampler {
    pub fn start(every: Duration, mut sample: impl FnMut() -> u64 + Send + 'static) -> PeakSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peak = sample();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(every);
                peak = peak.max(sample());
            }
            peak.max(sample())
        });
        PeakSampler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the largest value seen.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for PeakSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Copies a directory tree (plain files and folders).
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(Error::io(format!("creating {}", to.display())))?;
    let entries =
        std::fs::read_dir(from).map_err(Error::io(format!("reading {}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(Error::io(format!("reading {}", from.display())))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(Error::io(format!("copying {}", entry.path().display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_survives_single_quotes() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn own_status_has_rss_and_children_are_found() {
        let me = std::process::id();
        assert!(status_bytes(me, "VmRSS").is_some_and(|b| b > 0));
        assert_eq!(status_bytes(me, "NoSuchField"), None);
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let child = Group::spawn(cmd, "sleep").expect("spawn");
        let found = descendants_with(me, "sleep");
        assert!(found.contains(&child.id()), "{found:?}");
        let pid = child.id();
        drop(child);
        assert!(
            !descendants_with(me, "sleep").contains(&pid),
            "killed and reaped on drop"
        );
    }
}

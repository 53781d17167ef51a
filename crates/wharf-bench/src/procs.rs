//! Child processes that die with their guard (their whole process group), timed commands, and
//! memory readings from `/proc` (VmRSS, VmHWM, resetting the peak with `clear_refs`).

use std::collections::{BTreeMap, HashMap};
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

impl Group {
    /// Kills the whole group and waits (up to 5 s) until none of its processes is left, so that
    /// their files can be removed without a process still writing into them.
    pub fn kill_and_wait(&mut self) {
        // `kill -- -PGID` signals the whole group the child leads (Chromium below chromedriver).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let started = Instant::now();
        while group_alive(self.child.id()) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill_and_wait();
    }
}

/// Whether a live (not zombie) process is in process group `pgid`.
fn group_alive(pgid: u32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp ...`
        let mut fields = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace())
            .into_iter()
            .flatten();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|p| p.parse::<u32>().ok());
        pgrp == Some(pgid) && state != Some("Z")
    })
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
    page_rss(root, "--type=renderer")
}

/// The summed RSS of the processes below `root` whose command line holds `marker` (see
/// `browser::Kind::page_process`).
pub fn page_rss(root: u32, marker: &str) -> u64 {
    descendants_with(root, marker)
        .into_iter()
        .filter_map(|pid| status_bytes(pid, "VmRSS"))
        .sum()
}

/// CPU time (user + system, clock ticks) of every process below `root`, by kind: the registry,
/// the relay, Chromium's processes by `--type`, and the renderer's threads by name (the page's
/// main thread, the download worker, ...). For "where does the time go" profiles.
pub fn cpu_by_kind(root: u32) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for pid in descendants_with(root, "") {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let Some(kind) = kind_of(&cmdline) else {
            continue;
        };
        if kind == "chromium renderer" {
            let mut live = 0;
            for (thread, ticks) in thread_ticks(pid) {
                live += ticks;
                *out.entry(format!("renderer thread {thread}")).or_default() += ticks;
            }
            // The process's own figure also holds threads that ended (a nested worker stopped
            // at the end of its job), which no task entry shows any more.
            let all = ticks_of(&format!("/proc/{pid}/stat")).unwrap_or(live);
            *out.entry(ENDED_THREADS.to_owned()).or_default() += all.saturating_sub(live);
        } else if let Some(ticks) = ticks_of(&format!("/proc/{pid}/stat")) {
            *out.entry(kind).or_default() += ticks;
        }
    }
    out
}

fn kind_of(cmdline: &str) -> Option<String> {
    let program = cmdline.split_whitespace().next()?;
    let name = program.rsplit('/').next()?;
    if name.starts_with("docker-registry")
        || name.starts_with("wharf-relay")
        || name == "chromedriver"
        || name == "geckodriver"
    {
        return Some(name.to_owned());
    }
    if name.starts_with("firefox") {
        let kind = match (
            cmdline.contains("-contentproc"),
            cmdline.contains("-isForBrowser"),
        ) {
            (false, _) => "firefox parent",
            (true, true) => "firefox content",
            (true, false) => "firefox utility",
        };
        return Some(kind.to_owned());
    }
    if !name.starts_with("chromium") && !name.starts_with("chrome") {
        return None;
    }
    let kind = cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix("--type="))
        .unwrap_or("browser");
    let kind = match cmdline.contains("--utility-sub-type=network") {
        true => "network service",
        false => kind,
    };
    Some(format!("chromium {kind}"))
}

/// `utime + stime` of a `stat` file.
fn ticks_of(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// Per-thread CPU ticks of `pid`, by thread name (numbers stripped, so pools add up).
fn thread_ticks(pid: u32) -> Vec<(String, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let name: String = comm
            .trim()
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_owned();
        if let Some(ticks) = ticks_of(&path.join("stat").display().to_string()) {
            out.push((name, ticks));
        }
    }
    out
}

/// The kind under which renderer threads that ended are counted (nested workers).
pub const ENDED_THREADS: &str = "renderer threads that ended";

/// The kind under which [`CpuMeter`] counts children that ended in between (the anchors' shell,
/// curl, sha256sum, skopeo).
pub const EXITED: &str = "exited children";

/// CPU time spent by every process below this one between `start` and `finish`: the live ones by
/// kind, and the children this process waited for in between under [`EXITED`].
pub struct CpuMeter {
    before: BTreeMap<String, u64>,
}

impl CpuMeter {
    pub fn start() -> CpuMeter {
        CpuMeter {
            before: live_and_exited(),
        }
    }

    /// CPU seconds by kind (see [`cpu_by_kind`]).
    pub fn finish(self) -> BTreeMap<String, f64> {
        let per_second = ticks_per_second();
        live_and_exited()
            .into_iter()
            .map(|(kind, ticks)| {
                let spent = ticks.saturating_sub(self.before.get(&kind).copied().unwrap_or(0));
                (kind, spent as f64 / per_second)
            })
            .collect()
    }
}

fn live_and_exited() -> BTreeMap<String, u64> {
    let mut all = cpu_by_kind(std::process::id());
    all.insert(EXITED.to_owned(), waited_children_ticks().unwrap_or(0));
    all
}

/// `cutime + cstime` of this process: CPU of the children it has waited for (and theirs).
fn waited_children_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(13);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// CPU seconds of one run, every kind together.
pub fn cpu_total(run: &BTreeMap<String, f64>) -> f64 {
    run.values().sum()
}

/// The mean CPU seconds per run of each kind that used at least 0.1 s, busiest first.
pub fn cpu_summary<'a>(runs: impl Iterator<Item = &'a BTreeMap<String, f64>>) -> String {
    let mut total: BTreeMap<&str, f64> = BTreeMap::new();
    let mut n = 0usize;
    for run in runs {
        n += 1;
        for (kind, secs) in run {
            *total.entry(kind).or_default() += secs;
        }
    }
    let n = n.max(1) as f64;
    let mut list: Vec<(&str, f64)> = total.into_iter().map(|(k, v)| (k, v / n)).collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1));
    list.iter()
        .filter(|(_, secs)| *secs >= 0.1)
        .map(|(kind, secs)| format!("{kind} {secs:.2} s"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
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
    fn cpu_summary_averages_and_sorts() {
        let runs = [
            BTreeMap::from([
                ("a".to_owned(), 1.0),
                ("b".to_owned(), 3.0),
                ("c".to_owned(), 0.01),
            ]),
            BTreeMap::from([("a".to_owned(), 2.0), ("b".to_owned(), 1.0)]),
        ];
        assert_eq!(cpu_summary(runs.iter()), "b 2.00 s, a 1.50 s");
        assert_eq!(cpu_summary(std::iter::empty()), "");
    }

    #[test]
    fn process_kinds() {
        let cases = [
            ("/usr/lib/chromium/chromium --type=renderer --foo", Some("chromium renderer")),
            (
                "/usr/lib/chromium/chromium --type=utility --utility-sub-type=network.mojom.NetworkService",
                Some("chromium network service"),
            ),
            ("/usr/lib/chromium/chromium --headless --no-sandbox", Some("chromium browser")),
            ("/work/main/target/release/wharf-relay --listen x", Some("wharf-relay")),
            ("/usr/bin/docker-registry serve c.yml", Some("docker-registry")),
            ("/usr/bin/chromedriver --port=1", Some("chromedriver")),
            ("/bin/sh -c curl", None),
            ("", None),
        ];
        for (cmdline, want) in cases {
            assert_eq!(kind_of(cmdline).as_deref(), want, "{cmdline}");
        }
    }

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
        // Until the child has exec'd, its command line is still ours: poll briefly.
        let started = Instant::now();
        let mut found = descendants_with(me, "sleep");
        while !found.contains(&child.id()) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
            found = descendants_with(me, "sleep");
        }
        assert!(found.contains(&child.id()), "{found:?}");
        let pid = child.id();
        drop(child);
        assert!(
            !descendants_with(me, "sleep").contains(&pid),
            "killed and reaped on drop"
        );
    }

    #[test]
    fn cpu_of_children_that_ended_is_counted() {
        let meter = CpuMeter::start();
        // About half a second of shell arithmetic, waited for.
        let status = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"])
            .status()
            .expect("sh runs");
        assert!(status.success());
        let spent = meter.finish();
        let exited = spent.get(EXITED).copied().unwrap_or_default();
        assert!(exited >= 0.1, "{spent:?}");
        assert!(cpu_total(&spent) >= exited);
    }
}

//! `podman load` and `docker load` of saved archives: the tools the people who carry an archive
//! into a closed network run at the other end.
//!
//! podman runs without a daemon, as root, with `vfs` storage under a temporary root. dockerd
//! (Debian's 20.10, the last with the legacy v1.0 loader) runs on a socket in a temporary folder
//! with `vfs` storage and no iptables or bridge, so that it needs nothing from the host network.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::tool;

/// What a loader made of an archive, from its own `image inspect`.
#[derive(Debug)]
pub struct Loaded {
    /// The image ID without `sha256:`: the hex of the config's digest.
    pub id: String,
    /// `RootFS.Layers`: the uncompressed layers' digests.
    pub layers: Vec<String>,
    pub repo_tags: Vec<String>,
    pub os: String,
    pub architecture: String,
}

impl Loaded {
    fn from_inspect(inspected: &Value) -> Loaded {
        let image = &inspected[0];
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let id = image["Id"]
            .as_str()
            .unwrap_or_else(|| panic!("an Id: {image}"));
        Loaded {
            id: id.trim_start_matches("sha256:").to_owned(),
            layers: strings(&image["RootFS"]["Layers"]),
            repo_tags: strings(&image["RepoTags"]),
            os: image["Os"].as_str().unwrap_or_default().to_owned(),
            architecture: image["Architecture"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// The name a `load` printed: `Loaded image: NAME` (podman may say `Loaded image(s):`).
fn loaded_name(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let line = text
        .lines()
        .rfind(|line| line.starts_with("Loaded image"))?;
    let (_, names) = line.split_once(": ")?;
    names.split(',').next().map(|name| name.trim().to_owned())
}

fn named(output: &[u8]) -> String {
    loaded_name(output).unwrap_or_else(|| {
        panic!(
            "a loaded image name in {:?}",
            String::from_utf8_lossy(output)
        )
    })
}

/// podman with its own storage below `work`, gone with it.
pub struct Podman {
    args: Vec<String>,
}

impl Podman {
    pub fn new(work: &Path) -> Podman {
        let dir = |name: &str| work.join(name).to_str().expect("utf-8").to_owned();
        let args = [
            "--root",
            &dir("podman-root"),
            "--runroot",
            &dir("podman-run"),
            "--storage-driver",
            "vfs",
            "--events-backend",
            "file",
            "--cgroup-manager",
            "cgroupfs",
        ];
        Podman {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn run(&self, more: &[&str]) -> Vec<u8> {
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        args.extend_from_slice(more);
        tool("podman", &args)
    }

    pub fn load(&self, tar: &Path) -> Loaded {
        let name = named(&self.run(&["load", "-i", tar.to_str().expect("utf-8")]));
        self.inspect(&name)
    }

    /// `podman load`, then every image in its store.
    pub fn load_all(&self, tar: &Path) -> Vec<Loaded> {
        let output = self.run(&["load", "-i", tar.to_str().expect("utf-8")]);
        eprintln!("podman load: {}", String::from_utf8_lossy(&output).trim());
        let ids = self.run(&["images", "--quiet", "--no-trunc"]);
        let ids = String::from_utf8(ids).expect("utf-8");
        ids.lines().map(|id| self.inspect(id.trim())).collect()
    }

    pub fn inspect(&self, name: &str) -> Loaded {
        let inspected = self.run(&["image", "inspect", name]);
        Loaded::from_inspect(&serde_json::from_slice(&inspected).expect("JSON"))
    }
}

/// A dockerd of its own, stopped when dropped.
pub struct Dockerd {
    child: Child,
    host: String,
    _dir: tempfile::TempDir,
}

impl Dockerd {
    pub fn start() -> Dockerd {
        let dir = tempfile::tempdir().expect("dockerd folder");
        let root = dir.path().to_owned();
        let path = |name: &str| -> PathBuf { root.join(name) };
        let host = format!("unix://{}", path("docker.sock").display());
        let log = std::fs::File::create(path("dockerd.log")).expect("log");
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(path("data"))
            .arg("--exec-root")
            .arg(path("exec"))
            .arg("--pidfile")
            .arg(path("dockerd.pid"))
            .args(["-H", &host, "--storage-driver", "vfs"])
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("dockerd runs (apt-get install docker.io)");
        let mut daemon = Dockerd {
            child,
            host,
            _dir: dir,
        };
        daemon.wait_ready(&path("dockerd.log"));
        daemon
    }

    fn wait_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ping = Command::new("docker")
                .args([
                    "-H",
                    &self.host,
                    "version",
                    "--format",
                    "{{.Server.Version}}",
                ])
                .output()
                .expect("the docker client runs");
            if ping.status.success() {
                return;
            }
            let exited = self.child.try_wait().expect("dockerd status");
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("dockerd did not start ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn run(&self, more: &[&str]) -> Vec<u8> {
        let mut args = vec!["-H", self.host.as_str()];
        args.extend_from_slice(more);
        tool("docker", &args)
    }

    pub fn load(&self, tar: &Path) -> Loaded {
        let output = self.run(&["load", "-i", tar.to_str().expect("utf-8")]);
        self.inspect(&named(&output))
    }

    /// `docker load`; returns what it printed.
    pub fn load_raw(&self, tar: &Path) -> String {
        let output = self.run(&["load", "-i", tar.to_str().expect("utf-8")]);
        String::from_utf8_lossy(&output).into_owned()
    }

    /// `docker load` of a legacy v1.0 layout, which prints no name (it loads what its
    /// `repositories` names): then the image is looked up as `name`.
    pub fn load_as(&self, tar: &Path, name: &str) -> Loaded {
        let output = self.run(&["load", "-i", tar.to_str().expect("utf-8")]);
        eprintln!("docker load: {}", String::from_utf8_lossy(&output).trim());
        self.inspect(name)
    }

    pub fn inspect(&self, name: &str) -> Loaded {
        let inspected = self.run(&["image", "inspect", name]);
        Loaded::from_inspect(&serde_json::from_slice(&inspected).expect("JSON"))
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // SIGTERM lets dockerd stop its containerd; a kill would leave that one running.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both loaders (docker only for an archive with `manifest.json`) take the archive and report the
/// registry's image: its config digest as the image ID, its layers, its platform.
pub fn check_loaded(
    tar: &Path,
    expect: &super::Expect,
    diff_ids: &[String],
    docker: bool,
    work: &Path,
) {
    let podman = Podman::new(work).load(tar);
    check_one("podman", &podman, expect, diff_ids);
    if docker {
        let loaded = Dockerd::start().load(tar);
        check_one("docker", &loaded, expect, diff_ids);
        assert!(
            loaded.repo_tags.contains(&expect.repo_tag),
            "docker load names the image {}: {:?}",
            expect.repo_tag,
            loaded.repo_tags
        );
    }
}

fn check_one(loader: &str, loaded: &Loaded, expect: &super::Expect, diff_ids: &[String]) {
    eprintln!("{loader} load: {loaded:?}");
    assert_eq!(
        loaded.id,
        expect.config_digest.hex(),
        "{loader}'s image ID is the registry's config digest"
    );
    assert_eq!(loaded.layers, diff_ids, "{loader}'s layers");
    assert!(
        !loaded.os.is_empty() && !loaded.architecture.is_empty(),
        "{loaded:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::loaded_name;

    #[test]
    fn names_from_load_output() {
        let cases = [
            (
                "Loaded image: docker.io/library/t:1\n",
                "docker.io/library/t:1",
            ),
            (
                "Copying blob sha256:1: done\nLoaded image(s): a/b:1,a/b:2\n",
                "a/b:1",
            ),
            ("Loaded image ID: sha256:abc\n", "sha256:abc"),
        ];
        assert_eq!(loaded_name(b""), None);
        for (output, want) in cases {
            assert_eq!(
                loaded_name(output.as_bytes()).as_deref(),
                Some(want),
                "{output:?}"
            );
        }
    }
}

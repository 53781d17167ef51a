//! Running the built Worker locally on workerd (native only): `wharf-relay`-style flags, the capnp
//! config they become, and the `workerd serve` command that serves it on a socket the caller bound.
//!
//! Used by `cargo xtask worker` and by the test kit, so both run the Worker the same way.

use std::net::{IpAddr, TcpListener, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use wharf_relay_rules::AllowHost;

/// The flags `cargo xtask worker` takes, named as `wharf-relay`'s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--listen ADDR` (default 127.0.0.1:8787).
    pub listen: String,
    pub allow_hosts: Vec<String>,
    pub allow_public_hosts: Vec<String>,
    pub allow_origins: Vec<String>,
    pub max_redirects: Option<usize>,
}

/// The address `cargo xtask worker` listens on without `--listen` (wrangler dev's port).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// The compatibility date of the generated config and of `wrangler.toml`.
pub const COMPATIBILITY_DATE: &str = "2026-11-01";
/// The files worker-build writes (`build/`), copied beside the generated config.
pub const MODULES: [&str; 2] = ["index.js", "index_bg.wasm"];

impl Flags {
    /// Parses `--listen A --allow-host U ... --allow-public-host U --allow-origin O --max-redirects N`
    /// (each also as `--flag=value`).
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut flags = Flags {
            listen: DEFAULT_LISTEN.to_owned(),
            ..Flags::default()
        };
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| rest.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match name {
                "--listen" => flags.listen = value()?,
                "--allow-host" => flags.allow_hosts.push(checked_host(value()?)?),
                "--allow-public-host" => flags.allow_public_hosts.push(checked_host(value()?)?),
                "--allow-origin" => flags.allow_origins.push(value()?),
                "--max-redirects" => {
                    let text = value()?;
                    let n = text
                        .parse()
                        .map_err(|_| format!("--max-redirects {text:?}: not a number"))?;
                    flags.max_redirects = Some(n);
                }
                other => return Err(format!("unknown flag {other:?}")),
            }
        }
        Ok(flags)
    }

    /// The Worker vars these flags set (see [`crate::settings`]).
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("ALLOW_HOSTS", self.allow_hosts.join(" ")),
            ("ALLOW_PUBLIC_HOSTS", self.allow_public_hosts.join(" ")),
            ("ALLOW_ORIGINS", self.allow_origins.join(" ")),
        ];
        if let Some(n) = self.max_redirects {
            vars.push(("MAX_REDIRECTS", n.to_string()));
        }
        vars
    }

    /// workerd's network `allow` list: public addresses, plus the addresses `--allow-host` names
    /// (looked up now), so that loopback and private addresses are reachable only through them,
    /// as with `wharf-relay`.
    pub fn network_allow(&self) -> Result<Vec<String>, String> {
        let mut allow = vec!["public".to_owned()];
        for text in &self.allow_hosts {
            let host: AllowHost = text.parse().map_err(|e| format!("{text}: {e:?}"))?;
            for ip in addresses(host.host(), host.port())? {
                let cidr = match ip {
                    IpAddr::V4(v4) => format!("{v4}/32"),
                    IpAddr::V6(v6) => format!("{v6}/128"),
                };
                if !allow.contains(&cidr) {
                    allow.push(cidr);
                }
            }
        }
        Ok(allow)
    }
}

fn checked_host(text: String) -> Result<String, String> {
    text.parse::<AllowHost>()
        .map(|_| text.clone())
        .map_err(|e| format!("--allow-host {text:?}: {e:?}"))
}

/// What `host` resolves to now (an IP literal is itself; brackets of IPv6 literals removed).
fn addresses(host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let found = (bare, port)
        .to_socket_addrs()
        .map_err(|e| format!("--allow-host {host}: cannot look it up: {e}"))?;
    Ok(found.map(|a| a.ip()).collect())
}

/// The workerd config: one Worker from `index.js` + `index_bg.wasm` beside the config, its vars as
/// text bindings, outbound fetches through a network service with `allow`, and one socket `http`
/// (its address is given on the command line).
pub fn capnp(vars: &[(&str, String)], allow: &[String]) -> String {
    let bindings: Vec<String> = vars
        .iter()
        .map(|(name, value)| format!("    (name = {}, text = {}),", quote(name), quote(value)))
        .collect();
    let allow: Vec<String> = allow.iter().map(|a| quote(a)).collect();
    format!(
        r#"# Generated by wharf-relay-worker (launch.rs); `workerd serve` this file.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "relay", worker = .relay),
    (name = "net", network = (allow = [{allow}], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "relay")],
);

const relay :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = "{COMPATIBILITY_DATE}",
  bindings = [
{bindings}
  ],
  globalOutbound = "net",
);
"#,
        allow = allow.join(", "),
        bindings = bindings.join("\n"),
    )
}

/// A capnp string literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Where one local Worker's files are.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `workerd` binary.
    pub workerd: PathBuf,
    /// worker-build's output (`crates/wharf-relay-worker/build`).
    pub build: PathBuf,
    /// A folder of this Worker's own, for its config and modules.
    pub dir: PathBuf,
}

impl Launch {
    /// Writes the config and modules into `dir` and returns `workerd serve` on `listener` (passed
    /// as an inherited fd, so the address is bound before workerd starts and no port is raced for).
    pub fn command(&self, flags: &Flags, listener: &TcpListener) -> Result<Command, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        for module in MODULES {
            let from = self.build.join(module);
            std::fs::copy(&from, self.dir.join(module)).map_err(|e| {
                format!(
                    "{}: {e} (build the Worker first: cargo xtask worker)",
                    from.display()
                )
            })?;
        }
        let config = self.dir.join("workerd.capnp");
        let text = capnp(&flags.vars(), &flags.network_allow()?);
        std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
        let fd = listener.as_raw_fd();
        let mut command = Command::new(&self.workerd);
        command
            .arg("serve")
            .arg(&config)
            .arg("--socket-fd")
            .arg(format!("http={fd}"));
        // SAFETY: between fork and exec only fcntl runs, which is async-signal-safe; it clears
        // close-on-exec on the listener in the child alone.
        unsafe {
            command.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(command)
    }
}

/// The workerd binary from npm's `@cloudflare/workerd-linux-64` under `root/.tools/npm`.
pub fn workerd_in(root: &Path) -> PathBuf {
    root.join(".tools/npm/node_modules/@cloudflare/workerd-linux-64/bin/workerd")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_like_the_binary() {
        let flags = Flags::parse(&args(&[
            "--listen",
            "127.0.0.1:0",
            "--allow-host",
            "http://127.0.0.1:5000",
            "--allow-host=http://[::1]:5001",
            "--allow-origin",
            "https://page.example",
            "--max-redirects",
            "2",
        ]))
        .expect("valid");
        assert_eq!(flags.listen, "127.0.0.1:0");
        assert_eq!(flags.allow_hosts.len(), 2);
        assert_eq!(flags.max_redirects, Some(2));
        let allow = flags.network_allow().expect("literals");
        assert_eq!(allow, ["public", "127.0.0.1/32", "::1/128"]);
        let vars = flags.vars();
        assert!(vars.contains(&("MAX_REDIRECTS", "2".to_owned())));
        assert!(vars.contains(&("ALLOW_ORIGINS", "https://page.example".to_owned())));
    }

    #[test]
    fn bad_flags_are_refused() {
        for bad in [
            &["--allow-host", "ftp://x"][..],
            &["--max-redirects", "many"],
            &["--listen"],
            &["--frobnicate", "1"],
        ] {
            assert!(Flags::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_quotes_what_it_embeds() {
        let text = capnp(
            &[("ALLOW_HOSTS", "a \"b\" \\c".to_owned())],
            &["public".to_owned()],
        );
        assert!(
            text.contains(r#"(name = "ALLOW_HOSTS", text = "a \"b\" \\c"),"#),
            "{text}"
        );
        assert!(text.contains(r#"allow = ["public"]"#), "{text}");
        assert!(text.contains(r#"compatibilityDate = "2026-11-01""#));
    }
}

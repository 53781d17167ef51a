//! Configuration: the command line (also from `WHARF_RELAY_*` environment variables) and the validated
//! [`Config`] that [`crate::app`] takes.

use crate::cors::AllowOrigin;
use crate::policy::AllowHost;
use crate::resolve::Overrides;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the relay needs besides the listen address.
#[derive(Clone, Debug)]
pub struct Config {
    /// The built page; served at `/` with `index.html` for unknown paths. None: no page.
    pub dist: Option<PathBuf>,
    /// Added to the built-in allowlist; these may be plain http and loopback/private.
    pub allow_hosts: Vec<AllowHost>,
    /// Origins allowed besides the relay's own.
    pub allow_origins: Vec<AllowOrigin>,
    /// Longest wait for upstream response headers, and between two body chunks.
    pub idle_timeout: Duration,
    /// Longest wait for DNS + TCP (+ TLS) connection.
    pub connect_timeout: Duration,
    /// Upstream requests in flight at once (bodies included); more get 503 + `Retry-After`.
    pub max_concurrent: usize,
    /// Redirect hops the relay follows.
    pub max_redirects: usize,
    /// Names resolved without DNS (tests); still subject to the address checks.
    pub resolve_overrides: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dist: None,
            allow_hosts: Vec::new(),
            allow_origins: Vec::new(),
            idle_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_concurrent: 64,
            max_redirects: 5,
            resolve_overrides: Overrides::new(),
        }
    }
}

/// `wharf-relay`: CORS relay for container registries, serving the wharf page.
#[derive(Debug, Parser)]
#[command(name = "wharf-relay", version, about)]
pub struct Cli {
    /// Address to listen on.
    #[arg(long, env = "WHARF_RELAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Folder of the built page (default: `dist/` when it exists).
    #[arg(long, env = "WHARF_RELAY_DIST")]
    pub dist: Option<PathBuf>,
    /// Extra upstream: `host` (https:443), `host:port` (https) or `http://host:port`. Repeatable; the
    /// environment variable takes a comma-separated list.
    #[arg(
        long = "allow-host",
        env = "WHARF_RELAY_ALLOW_HOST",
        value_delimiter = ','
    )]
    pub allow_host: Vec<AllowHost>,
    /// Extra CORS origin (`https://page.example`) or `*`. Repeatable / comma-separated.
    #[arg(
        long = "allow-origin",
        env = "WHARF_RELAY_ALLOW_ORIGIN",
        value_delimiter = ','
    )]
    pub allow_origin: Vec<AllowOrigin>,
    /// Upstream requests in flight at once.
    #[arg(long, env = "WHARF_RELAY_MAX_CONCURRENT", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent: u32,
    /// Seconds without progress (headers or body bytes) before an upstream transfer is abandoned.
    #[arg(long, env = "WHARF_RELAY_IDLE_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,
    /// Seconds to connect to an upstream.
    #[arg(long, env = "WHARF_RELAY_CONNECT_TIMEOUT", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout_secs: u64,
}

/// A command line that parsed but does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--dist {0:?} is not a folder")]
    DistMissing(PathBuf),
}

impl Cli {
    /// The validated configuration; `default_dist` is used when `--dist` is absent and it exists.
    pub fn into_config(self, default_dist: PathBuf) -> Result<Config, ConfigError> {
        let dist = match self.dist {
            Some(dir) if dir.is_dir() => Some(dir),
            Some(dir) => return Err(ConfigError::DistMissing(dir)),
            None => default_dist.is_dir().then_some(default_dist),
        };
        Ok(Config {
            dist,
            allow_hosts: self.allow_host,
            allow_origins: self.allow_origin,
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            max_concurrent: usize::try_from(self.max_concurrent).unwrap_or(usize::MAX),
            ..Config::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let cli = Cli::try_parse_from([
            "wharf-relay",
            "--listen",
            "127.0.0.1:0",
            "--allow-host",
            "http://127.0.0.1:5000",
            "--allow-host",
            "localhost:5001,registry.internal",
            "--allow-origin",
            "https://page.example",
            "--max-concurrent",
            "3",
        ])
        .unwrap();
        assert_eq!(cli.listen, "127.0.0.1:0");
        let hosts: Vec<String> = cli.allow_host.iter().map(ToString::to_string).collect();
        assert_eq!(
            hosts,
            [
                "http://127.0.0.1:5000",
                "https://localhost:5001",
                "https://registry.internal:443"
            ]
        );
        let config = cli.into_config(PathBuf::from("/nonexistent-dist")).unwrap();
        assert_eq!(config.max_concurrent, 3);
        assert_eq!(config.dist, None);
        assert_eq!(
            config.allow_origins,
            [AllowOrigin::Origin("https://page.example".into())]
        );
    }

    #[test]
    fn rejects_bad_values() {
        for args in [
            &["wharf-relay", "--allow-host", "ftp://x:1"][..],
            &["wharf-relay", "--allow-origin", "https://x/path"][..],
            &["wharf-relay", "--max-concurrent", "0"][..],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let cli = Cli::try_parse_from(["wharf-relay", "--dist", "/nonexistent-dist"]).unwrap();
        assert!(matches!(
            cli.into_config(PathBuf::from("dist")),
            Err(ConfigError::DistMissing(_))
        ));
    }
}

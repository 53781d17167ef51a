//! Configuration: the command line (also from `WHARF_RELAY_*` environment variables) and the validated
//! [`Config`] that [`crate::app`] takes.

use crate::limits::Rule;
use crate::resolve::{Lookup, SystemLookup};
use clap::Parser;
use http::HeaderName;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use wharf_relay_rules::{AllowHost, AllowOrigin};

/// Everything the relay needs besides the listen address.
#[derive(Clone, Debug)]
pub struct Config {
    /// The built page; served at `/` with `index.html` for unknown paths. None: no page.
    pub dist: Option<PathBuf>,
    /// Added to the built-in allowlist; these may be plain http and loopback/private.
    pub allow_hosts: Vec<AllowHost>,
    /// Added to the built-in allowlist like `allow_hosts` (any scheme and port), but only reachable at
    /// public addresses, like the built-in hosts.
    pub allow_public_hosts: Vec<AllowHost>,
    /// Origins allowed besides the relay's own.
    pub allow_origins: Vec<AllowOrigin>,
    /// Longest wait for upstream response headers, and between two body chunks.
    pub idle_timeout: Duration,
    /// Longest wait for DNS + TCP (+ TLS) connection.
    pub connect_timeout: Duration,
    /// How long an idle upstream connection is kept for reuse.
    pub upstream_idle: Duration,
    /// Upstream requests in flight at once (bodies included); more get 503 + `Retry-After`.
    pub max_concurrent: usize,
    /// Redirect hops the relay follows.
    pub max_redirects: usize,
    /// Where names' addresses come from (the system resolver; tests give `resolve::Overrides` or
    /// their own). Every answer is checked, on every new connection.
    pub lookup: Arc<dyn Lookup>,
    /// Per client address (IPv6: per /64): in flight and request rate.
    pub client_limit: Rule,
    /// Per `Origin` header (a page hosted elsewhere): in flight and request rate.
    pub origin_limit: Rule,
    /// A header set by a trusted reverse proxy that names the client (`X-Forwarded-For`); its last
    /// address counts instead of the peer's. None: the peer address.
    pub client_ip_header: Option<HeaderName>,
}

/// The per-client limit when none is configured: well above what one page does (it downloads one
/// blob at a time per file, in 32 MiB windows), and an eighth of the default global bound, so four
/// greedy clients still leave room for a fifth.
pub const DEFAULT_CLIENT_LIMIT: Rule = Rule {
    max_concurrent: 8,
    rate: 20.0,
    burst: 100,
};

impl Default for Config {
    fn default() -> Self {
        Self {
            dist: None,
            allow_hosts: Vec::new(),
            allow_public_hosts: Vec::new(),
            allow_origins: Vec::new(),
            idle_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            upstream_idle: Duration::from_secs(90),
            max_concurrent: 64,
            max_redirects: 5,
            lookup: Arc::new(SystemLookup),
            client_limit: DEFAULT_CLIENT_LIMIT,
            origin_limit: Rule::OFF,
            client_ip_header: None,
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
    /// Extra upstream in the same forms as `--allow-host`, reachable only at public addresses (its
    /// name may never resolve to loopback, private or link-local addresses). Repeatable / comma-separated.
    #[arg(
        long = "allow-public-host",
        env = "WHARF_RELAY_ALLOW_PUBLIC_HOST",
        value_delimiter = ','
    )]
    pub allow_public_host: Vec<AllowHost>,
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
    /// Seconds an idle upstream connection is kept open for reuse.
    #[arg(long, env = "WHARF_RELAY_UPSTREAM_IDLE", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub upstream_idle_secs: u64,
    /// Requests one client address (IPv6: one /64) may have in flight; 0: no limit.
    #[arg(long, env = "WHARF_RELAY_CLIENT_MAX_CONCURRENT", default_value_t = DEFAULT_CLIENT_LIMIT.max_concurrent)]
    pub client_max_concurrent: u32,
    /// Requests per second one client address may make, sustained; 0: no limit.
    #[arg(long, env = "WHARF_RELAY_CLIENT_RATE", default_value_t = DEFAULT_CLIENT_LIMIT.rate,
          value_parser = parse_rate)]
    pub client_rate: f64,
    /// Requests one client address may make at once after a quiet time.
    #[arg(long, env = "WHARF_RELAY_CLIENT_BURST", default_value_t = DEFAULT_CLIENT_LIMIT.burst)]
    pub client_burst: u32,
    /// Requests in flight per `Origin` (pages hosted elsewhere); 0: no limit.
    #[arg(long, env = "WHARF_RELAY_ORIGIN_MAX_CONCURRENT", default_value_t = 0)]
    pub origin_max_concurrent: u32,
    /// Requests per second per `Origin`; 0: no limit.
    #[arg(long, env = "WHARF_RELAY_ORIGIN_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub origin_rate: f64,
    /// Burst per `Origin` (default: one second's worth of `--origin-rate`).
    #[arg(long, env = "WHARF_RELAY_ORIGIN_BURST")]
    pub origin_burst: Option<u32>,
    /// Header from a trusted reverse proxy naming the client (e.g. `X-Forwarded-For`); only set it
    /// when every request comes through that proxy, or clients can pick their own key.
    #[arg(long, env = "WHARF_RELAY_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<HeaderName>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate (requests per second, 0 or more)"
        )),
    }
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
            allow_public_hosts: self.allow_public_host,
            allow_origins: self.allow_origin,
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            upstream_idle: Duration::from_secs(self.upstream_idle_secs),
            max_concurrent: usize::try_from(self.max_concurrent).unwrap_or(usize::MAX),
            client_limit: Rule {
                max_concurrent: self.client_max_concurrent,
                rate: self.client_rate,
                burst: self.client_burst,
            },
            origin_limit: Rule {
                max_concurrent: self.origin_max_concurrent,
                rate: self.origin_rate,
                burst: self
                    .origin_burst
                    .unwrap_or(self.origin_rate.ceil().min(f64::from(u32::MAX)) as u32),
            },
            client_ip_header: self.client_ip_header,
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
            "--allow-public-host",
            "http://registry.example:8080",
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
        assert_eq!(
            config.allow_public_hosts,
            ["http://registry.example:8080".parse().unwrap()]
        );
        assert_eq!(config.client_limit, DEFAULT_CLIENT_LIMIT);
        assert_eq!(config.origin_limit, Rule::OFF);
        assert_eq!(config.dist, None);
        assert_eq!(
            config.allow_origins,
            [AllowOrigin::Origin("https://page.example".into())]
        );
    }

    #[test]
    fn limit_flags() {
        let cli = Cli::try_parse_from([
            "wharf-relay",
            "--client-max-concurrent",
            "2",
            "--client-rate",
            "0.5",
            "--client-burst",
            "4",
            "--origin-rate",
            "2.5",
            "--client-ip-header",
            "X-Forwarded-For",
        ])
        .unwrap();
        let config = cli.into_config(PathBuf::from("/nonexistent-dist")).unwrap();
        let client = Rule {
            max_concurrent: 2,
            rate: 0.5,
            burst: 4,
        };
        let origin = Rule {
            max_concurrent: 0,
            rate: 2.5,
            burst: 3,
        };
        assert_eq!((config.client_limit, config.origin_limit), (client, origin));
        assert_eq!(config.client_ip_header.unwrap(), "x-forwarded-for");
    }

    #[test]
    fn rejects_bad_values() {
        for args in [
            &["wharf-relay", "--allow-host", "ftp://x:1"][..],
            &["wharf-relay", "--allow-origin", "https://x/path"][..],
            &["wharf-relay", "--max-concurrent", "0"][..],
            &["wharf-relay", "--client-rate", "-1"][..],
            &["wharf-relay", "--client-rate", "inf"][..],
            &["wharf-relay", "--origin-rate", "NaN"][..],
            &["wharf-relay", "--client-ip-header", "bad header"][..],
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

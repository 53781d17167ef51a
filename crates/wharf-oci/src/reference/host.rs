//! The registry part of a reference: host name, IPv4 or bracketed IPv6, optional port; its
//! normal form, the API host, the scheme and the base URL.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::Url;

use super::{Problem, ReferenceProblem, Scheme, DOCKER_HUB, DOCKER_HUB_API};

pub(super) struct Host {
    pub(super) name: String,
    pub(super) api_host: String,
    pub(super) scheme: Scheme,
    pub(super) base_url: Url,
}

pub(super) fn parse_registry(registry: Option<&str>) -> Problem<Host> {
    let Some(text) = registry else {
        return hub();
    };
    let bad = |reason| ReferenceProblem::InvalidRegistry {
        registry: text.to_owned(),
        reason,
    };
    if text.eq_ignore_ascii_case(DOCKER_HUB) || text.eq_ignore_ascii_case("index.docker.io") {
        return hub();
    }
    let (host, port) =
        split_port(text).ok_or_else(|| bad("expected host, host:port or [ipv6]:port"))?;
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|&n| n != 0)
                .ok_or_else(|| bad("the port must be between 1 and 65535"))?,
        ),
        Some(_) => return Err(bad("the port must be a number")),
    };
    let (host, loopback) = normalise_host(host).map_err(bad)?;
    let name = match port {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let scheme = if loopback {
        Scheme::Http
    } else {
        Scheme::Https
    };
    let base_url = Url::parse(&format!("{scheme}://{name}/"))
        .map_err(|_| bad("not a host name a URL can hold"))?;
    // The URL parser reads some dotted names as IPv4 (`1.2.3` -> 1.2.0.3, `0x7f.1` -> 127.0.0.1);
    // refuse those rather than speak to a host other than the one shown.
    if base_url.host_str() != Some(host.as_str()) {
        return Err(bad("not a host name a URL can hold"));
    }
    Ok(Host {
        api_host: name.clone(),
        name,
        scheme,
        base_url,
    })
}

fn hub() -> Problem<Host> {
    let base_url = Url::parse(&format!("https://{DOCKER_HUB_API}/")).map_err(|_| {
        ReferenceProblem::InvalidRegistry {
            registry: DOCKER_HUB.to_owned(),
            reason: "cannot build its URL",
        }
    })?;
    Ok(Host {
        name: DOCKER_HUB.to_owned(),
        api_host: DOCKER_HUB_API.to_owned(),
        scheme: Scheme::Https,
        base_url,
    })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` -> (host, port). None if brackets are unbalanced.
fn split_port(text: &str) -> Option<(&str, Option<&str>)> {
    if text.starts_with('[') {
        let close = text.find(']')?;
        let (host, after) = text.split_at(close + 1);
        return match after {
            "" => Some((host, None)),
            _ => after.strip_prefix(':').map(|p| (host, Some(p))),
        };
    }
    Some(match text.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    })
}

/// Validates a host and gives its normal form and whether it is loopback (spoken to over http).
fn normalise_host(host: &str) -> std::result::Result<(String, bool), &'static str> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| "not a valid IPv6 address")?;
        return Ok((format!("[{ip}]"), ip.is_loopback()));
    }
    let labels_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err("host names are letters, digits and '-', in dot-separated labels");
    }
    let host = host.to_ascii_lowercase();
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok((ip.to_string(), ip.is_loopback()));
    }
    let loopback = host == "localhost";
    Ok((host, loopback))
}

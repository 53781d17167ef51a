//! DNS for the upstream client: resolve once, check every address, hand only checked addresses to the
//! connector (which connects to exactly these). IP literals never reach a resolver; [`crate::policy`]
//! checks them.

use crate::ipclass;
use crate::policy::{canonical_name, Policy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A refusal or failure from the resolver, found again in the client's error chain by [`find`].
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("address {address} of {host} is not allowed")]
    Refused { host: String, address: IpAddr },
    #[error("{host} did not resolve")]
    NotFound { host: String },
}

/// Static name -> addresses entries used instead of DNS (like curl's `--resolve`). A non-zero port is
/// used when the URL names none.
pub type Overrides = HashMap<String, Vec<SocketAddr>>;

/// The resolver given to reqwest.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: Arc<Policy>,
    overrides: Arc<Overrides>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<Policy>, overrides: Overrides) -> Self {
        let overrides = overrides
            .into_iter()
            .map(|(k, v)| (canonical_name(&k), v))
            .collect();
        Self {
            policy,
            overrides: Arc::new(overrides),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let overrides = Arc::clone(&self.overrides);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = match overrides.get(&canonical_name(&host)) {
                Some(addrs) => addrs.clone(),
                None => lookup(&host).await?,
            };
            check_addresses(policy.is_explicit_name(&host), &host, &addrs)?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

async fn lookup(host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
    let not_found = || ResolveError::NotFound {
        host: host.to_owned(),
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|_| not_found())?
        .collect();
    Ok(addrs)
}

/// Every address must be public unless the name is explicitly allowed; an empty answer is a failure.
pub fn check_addresses(
    explicit: bool,
    host: &str,
    addrs: &[SocketAddr],
) -> Result<(), ResolveError> {
    if addrs.is_empty() {
        return Err(ResolveError::NotFound {
            host: host.to_owned(),
        });
    }
    if explicit {
        return Ok(());
    }
    match addrs.iter().find(|a| !ipclass::is_public(a.ip())) {
        Some(bad) => Err(ResolveError::Refused {
            host: host.to_owned(),
            address: bad.ip(),
        }),
        None => Ok(()),
    }
}

/// Finds a [`ResolveError`] in an error's source chain (reqwest wraps it twice).
pub fn find<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a ResolveError> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<ResolveError>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter()
            .map(|a| SocketAddr::new(a.parse().unwrap(), 0))
            .collect()
    }

    #[test]
    fn every_address_is_checked() {
        let ok = addrs(&["8.8.8.8", "2606:4700::1"]);
        assert_eq!(check_addresses(false, "h", &ok), Ok(()));
        let mixed = addrs(&["8.8.8.8", "10.1.2.3"]);
        assert_eq!(
            check_addresses(false, "h", &mixed),
            Err(ResolveError::Refused {
                host: "h".into(),
                address: "10.1.2.3".parse().unwrap()
            })
        );
        let mapped = addrs(&["::ffff:169.254.169.254"]);
        assert!(check_addresses(false, "h", &mapped).is_err());
        assert_eq!(check_addresses(true, "h", &mixed), Ok(()));
        assert_eq!(
            check_addresses(true, "h", &[]),
            Err(ResolveError::NotFound { host: "h".into() })
        );
    }

    #[tokio::test]
    async fn resolver_refuses_private_answers_and_allows_explicit_names() {
        let policy = Arc::new(Policy::new(vec!["http://internal.test:5000"
            .parse()
            .unwrap()]));
        let mut overrides = Overrides::new();
        overrides.insert("Registry-1.Docker.IO".into(), addrs(&["127.0.0.1"]));
        overrides.insert("internal.test".into(), addrs(&["10.0.0.7"]));
        overrides.insert("public.test".into(), addrs(&["93.184.216.34"]));
        let resolver = GuardedResolver::new(policy, overrides);

        let refused = resolver
            .resolve("registry-1.docker.io.".parse().unwrap())
            .await;
        let err = refused.err().unwrap();
        assert!(matches!(
            find(err.as_ref()),
            Some(ResolveError::Refused { .. })
        ));

        let allowed = resolver.resolve("internal.test".parse().unwrap()).await;
        let got: Vec<SocketAddr> = allowed.ok().unwrap().collect();
        assert_eq!(got, addrs(&["10.0.0.7"]));

        let public = resolver.resolve("public.test".parse().unwrap()).await;
        assert_eq!(public.ok().unwrap().count(), 1);

        let localhost = resolver.resolve("localhost".parse().unwrap()).await;
        let err = localhost.err().unwrap();
        assert!(matches!(
            find(err.as_ref()),
            Some(ResolveError::Refused { .. })
        ));
    }
}

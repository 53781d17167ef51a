//! DNS for the upstream client: resolve once, check every address, hand only checked addresses to the
//! connector (which connects to exactly these). IP literals never reach a resolver; [`crate::policy`]
//! checks them.
//!
//! Every new upstream connection asks again and checks the new answer, so a name whose answer changes
//! (DNS rebinding: public when first asked, loopback a moment later, or on a later redirect hop) is
//! refused the moment it points somewhere it must not. Where the answers come from is a [`Lookup`]
//! (the system's resolver by default; tests give one whose answer flips).

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use wharf_relay_rules::ipclass;
use wharf_relay_rules::policy::{canonical_name, Policy};

/// A refusal or failure from the resolver, found again in the client's error chain by [`find`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("address {address} of {host} is not allowed")]
    Refused { host: String, address: IpAddr },
    #[error("{host} did not resolve")]
    NotFound { host: String },
}

/// What a [`Lookup`] answers: addresses (port 0 means the URL's port).
pub type Answer = Pin<Box<dyn Future<Output = Result<Vec<SocketAddr>, ResolveError>> + Send>>;

/// Where addresses for a name come from. Whatever it answers is checked before use.
pub trait Lookup: Send + Sync + fmt::Debug {
    fn lookup(&self, host: &str) -> Answer;
}

/// The system's resolver (`getaddrinfo` through tokio).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> Answer {
        let host = host.to_owned();
        Box::pin(async move { lookup(&host).await })
    }
}

/// Fixed name -> addresses entries answered instead of asking `fallback` (like curl's `--resolve`;
/// tests). A non-zero port is used when the URL names none.
#[derive(Debug)]
pub struct Overrides {
    names: HashMap<String, Vec<SocketAddr>>,
    fallback: Arc<dyn Lookup>,
}

impl Overrides {
    pub fn new(
        names: impl IntoIterator<Item = (String, Vec<SocketAddr>)>,
        fallback: Arc<dyn Lookup>,
    ) -> Self {
        let names = names
            .into_iter()
            .map(|(name, addrs)| (canonical_name(&name), addrs))
            .collect();
        Self { names, fallback }
    }
}

impl Lookup for Overrides {
    fn lookup(&self, host: &str) -> Answer {
        match self.names.get(&canonical_name(host)) {
            Some(addrs) => {
                let addrs = addrs.clone();
                Box::pin(async move { Ok(addrs) })
            }
            None => self.fallback.lookup(host),
        }
    }
}

/// The resolver given to reqwest.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: Arc<Policy>,
    lookup: Arc<dyn Lookup>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<Policy>, lookup: Arc<dyn Lookup>) -> Self {
        Self { policy, lookup }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        let answer = self.lookup.lookup(&host);
        Box::pin(async move {
            let addrs = answer.await?;
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
        let names = [
            ("Registry-1.Docker.IO", addrs(&["127.0.0.1"])),
            ("internal.test", addrs(&["10.0.0.7"])),
            ("public.test", addrs(&["93.184.216.34"])),
        ];
        let names = names.map(|(n, a)| (n.to_owned(), a));
        let lookup = Overrides::new(names, Arc::new(SystemLookup));
        let resolver = GuardedResolver::new(policy, Arc::new(lookup));

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

    /// Answers from a list, one per look-up; the last one repeats.
    #[derive(Debug)]
    struct Flipping(std::sync::Mutex<Vec<Vec<SocketAddr>>>);

    impl Lookup for Flipping {
        fn lookup(&self, _host: &str) -> Answer {
            let mut answers = self.0.lock().unwrap();
            let next = match answers.len() {
                1 => answers[0].clone(),
                _ => answers.remove(0),
            };
            Box::pin(async move { Ok(next) })
        }
    }

    #[tokio::test]
    async fn every_look_up_is_checked_again() {
        let answers = vec![
            addrs(&["93.184.216.34"]),
            addrs(&["127.0.0.1"]),
            addrs(&["93.184.216.34", "10.0.0.1"]),
            addrs(&["93.184.216.34"]),
        ];
        let lookup = Arc::new(Flipping(std::sync::Mutex::new(answers)));
        let resolver = GuardedResolver::new(Arc::new(Policy::default()), lookup);
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let got = resolver.resolve("ghcr.io".parse().unwrap()).await;
            outcomes.push(match got {
                Ok(addrs) => Ok(addrs.count()),
                Err(e) => Err(find(e.as_ref()).cloned()),
            });
        }
        let refused = |a: &str| {
            Err(Some(ResolveError::Refused {
                host: "ghcr.io".into(),
                address: a.parse().unwrap(),
            }))
        };
        assert_eq!(
            outcomes,
            [Ok(1), refused("127.0.0.1"), refused("10.0.0.1"), Ok(1)]
        );
    }
}

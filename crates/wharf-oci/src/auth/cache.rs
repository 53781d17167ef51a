//! Tokens kept between requests, keyed by registry host and scope set. Time is a parameter.

use std::collections::{BTreeMap, BTreeSet};

use super::{Scope, Secret, Timestamp, TokenResponse};

/// Seconds before the announced expiry at which a token stops being handed out, so that it does
/// not run out between `get` and the registry checking it. Never more than half its lifetime.
pub const EXPIRY_MARGIN_SECS: u64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    /// Lowercased `host[:port]`, e.g. `registry-1.docker.io`, `localhost:5000`.
    registry: String,
    /// Sorted and de-duplicated.
    scopes: BTreeSet<Scope>,
}

impl Key {
    fn new(registry: &str, scopes: &[Scope]) -> Key {
        Key {
            registry: registry.to_ascii_lowercase(),
            scopes: scopes.iter().cloned().collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    token: Secret,
    expires_at: Timestamp,
}

/// Bearer tokens by (registry, scope set). A token is found only for exactly the scope set it
/// was fetched for, in any order. `Debug` shows no token (they are [`Secret`]s).
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    entries: BTreeMap<Key, Entry>,
}

impl TokenCache {
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// The token for this registry and scope set, if one is still valid at `now`.
    pub fn get(&self, registry: &str, scopes: &[Scope], now: Timestamp) -> Option<&Secret> {
        self.entries
            .get(&Key::new(registry, scopes))
            .filter(|entry| now < entry.expires_at)
            .map(|entry| &entry.token)
    }

    /// Keeps a token from a token answer received at `now`, replacing any older one for the same
    /// key. Returns the time it stops being handed out ([`expires_at`]).
    pub fn insert(
        &mut self,
        registry: &str,
        scopes: &[Scope],
        response: &TokenResponse,
        now: Timestamp,
    ) -> Timestamp {
        let expires_at = expires_at(response, now);
        let entry = Entry {
            token: response.token.clone(),
            expires_at,
        };
        self.entries.insert(Key::new(registry, scopes), entry);
        expires_at
    }

    /// Forgets one token, e.g. after the registry refused it. Says whether there was one.
    pub fn remove(&mut self, registry: &str, scopes: &[Scope]) -> bool {
        self.entries.remove(&Key::new(registry, scopes)).is_some()
    }

    /// Drops every token that is no longer valid at `now`; returns how many went.
    pub fn purge(&mut self, now: Timestamp) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, entry| now < entry.expires_at);
        before - self.entries.len()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// When a token from `response`, received at `now`, stops being handed out: its issue time plus
/// `expires_in`, minus the safety margin. The issue time is `issued_at` when given, but never
/// later than `now`: a token server whose clock runs ahead must not stretch a token's life.
pub fn expires_at(response: &TokenResponse, now: Timestamp) -> Timestamp {
    let issued = response.issued_at.map_or(now, |issued| issued.min(now));
    let margin = EXPIRY_MARGIN_SECS.min(response.expires_in / 2);
    issued.saturating_add(response.expires_in - margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: u64) -> Timestamp {
        Timestamp::from_unix_seconds(seconds)
    }

    fn answer(token: &str, expires_in: u64, issued_at: Option<u64>) -> TokenResponse {
        TokenResponse {
            token: Secret::new(token),
            expires_in,
            issued_at: issued_at.map(t),
        }
    }

    fn pull(names: &[&str]) -> Vec<Scope> {
        names.iter().map(|n| Scope::pull(n).unwrap()).collect()
    }

    #[test]
    fn expiry_table() {
        // (expires_in, issued_at, now at insertion) -> expires_at
        let cases: &[(u64, Option<u64>, u64, u64)] = &[
            (300, None, 1000, 1290),          // now + 300 - 10
            (300, Some(900), 1000, 1190),     // issued_at + 300 - 10
            (300, Some(5000), 1000, 1290),    // issued_at in our future: use now
            (60, None, 1000, 1050),           // the default lifetime
            (10, None, 1000, 1005),           // margin at most half the lifetime
            (1, None, 1000, 1001),            // 1 / 2 = 0 margin
            (0, None, 1000, 1000),            // never handed out
            (u64::MAX, None, 1000, u64::MAX), // saturates
            (300, Some(0), 1000, 290),        // long expired already
        ];
        for &(expires_in, issued_at, now, want) in cases {
            let got = expires_at(&answer("x", expires_in, issued_at), t(now));
            assert_eq!(
                got,
                t(want),
                "expires_in {expires_in}, issued_at {issued_at:?}, now {now}"
            );
        }
    }

    #[test]
    fn get_respects_expiry_with_explicit_now() {
        let mut cache = TokenCache::new();
        let scopes = pull(&["library/hello-world"]);
        let until = cache.insert(
            "registry-1.docker.io",
            &scopes,
            &answer("tok", 300, None),
            t(1000),
        );
        assert_eq!(until, t(1290));
        for (now, found) in [(1000, true), (1289, true), (1290, false), (5000, false)] {
            let got = cache.get("registry-1.docker.io", &scopes, t(now));
            assert_eq!(got.map(Secret::expose), found.then_some("tok"), "now {now}");
        }
        // Time going backwards (a clock reset) still finds it: validity is only "before expiry".
        assert!(cache.get("registry-1.docker.io", &scopes, t(0)).is_some());
        // A token that was issued long ago expires sooner than one counted from now.
        cache.insert("ghcr.io", &scopes, &answer("old", 60, Some(950)), t(1000));
        assert!(cache.get("ghcr.io", &scopes, t(999)).is_some());
        assert!(cache.get("ghcr.io", &scopes, t(1000)).is_none());
    }

    #[test]
    fn key_is_registry_and_scope_set() {
        let mut cache = TokenCache::new();
        let ab = pull(&["a", "b"]);
        cache.insert("LocalHost:5000", &ab, &answer("ab", 300, None), t(0));
        // Same set, other order, duplicates, other host case: same entry.
        for scopes in [pull(&["b", "a"]), pull(&["a", "b", "a"])] {
            assert_eq!(
                cache
                    .get("localhost:5000", &scopes, t(1))
                    .map(Secret::expose),
                Some("ab")
            );
        }
        // Subsets, supersets, other registries: not the same entry.
        assert!(cache.get("localhost:5000", &pull(&["a"]), t(1)).is_none());
        assert!(cache
            .get("localhost:5000", &pull(&["a", "b", "c"]), t(1))
            .is_none());
        assert!(cache.get("localhost:5001", &ab, t(1)).is_none());
        assert!(cache.get("localhost:5000", &[], t(1)).is_none());
        // A newer token replaces the older one.
        cache.insert("localhost:5000", &ab, &answer("ab2", 300, None), t(5));
        assert_eq!(
            cache.get("localhost:5000", &ab, t(6)).map(Secret::expose),
            Some("ab2")
        );
        assert_eq!(cache.len(), 1);
        assert!(cache.remove("LOCALHOST:5000", &ab));
        assert!(!cache.remove("localhost:5000", &ab));
        assert!(cache.is_empty());
    }

    #[test]
    fn purge_drops_only_expired_entries() {
        let mut cache = TokenCache::new();
        cache.insert("r", &pull(&["a"]), &answer("a", 60, None), t(100)); // until 150
        cache.insert("r", &pull(&["b"]), &answer("b", 300, None), t(100)); // until 390
        cache.insert("r", &[], &answer("c", 0, None), t(100)); // until 100
        assert_eq!(cache.purge(t(100)), 1);
        assert_eq!(cache.purge(t(149)), 0);
        assert_eq!(cache.purge(t(150)), 1);
        assert_eq!(cache.len(), 1);
        assert_eq!(
            cache.get("r", &pull(&["b"]), t(150)).map(Secret::expose),
            Some("b")
        );
        assert_eq!(cache.purge(t(u64::MAX)), 1);
        assert!(cache.is_empty());
    }

    #[test]
    fn debug_hides_tokens() {
        let mut cache = TokenCache::new();
        cache.insert(
            "r",
            &pull(&["a"]),
            &answer("VerySecretToken", 60, None),
            t(0),
        );
        let shown = format!("{cache:?}");
        assert!(
            !shown.contains("VerySecretToken") && shown.contains("***"),
            "{shown}"
        );
    }
}

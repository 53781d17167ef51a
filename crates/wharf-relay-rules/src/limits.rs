//! Per-client fairness: requests in flight and a request rate (token bucket) per client address and per
//! `Origin`, so one client cannot take every upstream slot. [`Table`] is pure (time is a parameter);
//! a driver shares it between requests and gives slots back when a response body ends.
//!
//! Keys: an IPv4 address, or an IPv6 address cut to its /64 (one host usually has a whole /64), and the
//! page's `Origin`. The table holds at most `capacity` keys; idle keys are pruned, and once it is full of
//! busy keys, new ones share one overflow entry per scope (so memory stays bounded whatever the number
//! of addresses a client can use; the relay's global `--max-concurrent` stays the last bound).

use http::{HeaderMap, HeaderName};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Instant;

/// One limit. A zero part is off: `max_concurrent: 0` allows any number in flight, `rate: 0.0` any rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// Requests in flight at once (until their response body ends).
    pub max_concurrent: u32,
    /// Requests per second, sustained.
    pub rate: f64,
    /// Requests that may come at once after a quiet time (the bucket size); at least 1 when `rate` is on.
    pub burst: u32,
}

impl Rule {
    pub const OFF: Rule = Rule {
        max_concurrent: 0,
        rate: 0.0,
        burst: 0,
    };

    fn is_off(&self) -> bool {
        self.max_concurrent == 0 && !self.rate_on()
    }

    fn rate_on(&self) -> bool {
        self.rate.is_finite() && self.rate > 0.0
    }

    fn bucket(&self) -> f64 {
        f64::from(self.burst.max(1))
    }
}

/// Which limit a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Client,
    Origin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Client => "client",
            Scope::Origin => "origin",
        }
    }
}

/// What a limit is counted by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Client(IpAddr),
    Origin(String),
    /// Every new key once the table is full of busy ones.
    Overflow(Scope),
}

impl Key {
    fn scope(&self) -> Scope {
        match self {
            Key::Client(_) => Scope::Client,
            Key::Origin(_) => Scope::Origin,
            Key::Overflow(scope) => *scope,
        }
    }
}

/// Why a request was refused, and when to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub scope: Scope,
    /// Whole seconds, at least 1 (what `Retry-After` says).
    pub retry_after: u64,
}

#[derive(Debug)]
struct Entry {
    tokens: f64,
    refilled: Instant,
    in_flight: u32,
}

/// The keys a request was admitted under, to give back with [`Table::release`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ticket(Vec<Key>);

/// The rule of each scope.
#[derive(Clone, Copy, Debug)]
struct Rules {
    client: Rule,
    origin: Rule,
}

impl Rules {
    fn of(self, scope: Scope) -> Rule {
        match scope {
            Scope::Client => self.client,
            Scope::Origin => self.origin,
        }
    }
}

/// Counters per key. Pure: every call takes the time.
#[derive(Debug)]
pub struct Table {
    rules: Rules,
    capacity: usize,
    entries: HashMap<Key, Entry>,
    since_prune: usize,
}

impl Table {
    pub fn new(client: Rule, origin: Rule, capacity: usize) -> Self {
        Self {
            rules: Rules { client, origin },
            capacity: capacity.max(2),
            entries: HashMap::new(),
            since_prune: 0,
        }
    }

    /// Admits a request counted under every key (all or none), or says which limit refused it.
    pub fn admit(&mut self, keys: Vec<Key>, now: Instant) -> Result<Ticket, Limited> {
        self.maybe_prune(now);
        let rules = self.rules;
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| !rules.of(k.scope()).is_off())
            .map(|k| self.slot_for(k, now))
            .collect();
        for key in &keys {
            let rule = rules.of(key.scope());
            let entry = self.entry(key, now);
            refill(entry, rule, now);
            if let Some(wait) = refusal(entry, rule) {
                return Err(Limited {
                    scope: key.scope(),
                    retry_after: wait,
                });
            }
        }
        for key in &keys {
            let rule = rules.of(key.scope());
            let entry = self.entry(key, now);
            entry.in_flight = entry.in_flight.saturating_add(1);
            if rule.rate_on() {
                entry.tokens -= 1.0;
            }
        }
        Ok(Ticket(keys))
    }

    /// Gives back the in-flight slots of an admitted request.
    pub fn release(&mut self, ticket: &Ticket) {
        for key in &ticket.0 {
            if let Some(entry) = self.entries.get_mut(key) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
            }
        }
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets keys with nothing in flight and a full bucket: they would behave as new ones.
    pub fn prune(&mut self, now: Instant) {
        let rules = self.rules;
        self.entries.retain(|key, entry| {
            let rule = rules.of(key.scope());
            refill(entry, rule, now);
            entry.in_flight > 0 || (rule.rate_on() && entry.tokens < rule.bucket())
        });
        self.since_prune = 0;
    }

    /// Prunes once per `len` admissions (amortised O(1)).
    fn maybe_prune(&mut self, now: Instant) {
        self.since_prune += 1;
        if self.since_prune >= self.entries.len().max(256) {
            self.prune(now);
        }
    }

    /// The key itself, or the overflow entry when the table is full and the key is new.
    fn slot_for(&mut self, key: Key, now: Instant) -> Key {
        if self.entries.contains_key(&key) || self.entries.len() < self.capacity {
            return key;
        }
        self.prune(now);
        if self.entries.len() < self.capacity {
            key
        } else {
            Key::Overflow(key.scope())
        }
    }

    fn entry(&mut self, key: &Key, now: Instant) -> &mut Entry {
        let bucket = self.rules.of(key.scope()).bucket();
        self.entries.entry(key.clone()).or_insert(Entry {
            tokens: bucket,
            refilled: now,
            in_flight: 0,
        })
    }
}

fn refill(entry: &mut Entry, rule: Rule, now: Instant) {
    if rule.rate_on() {
        let elapsed = now.saturating_duration_since(entry.refilled).as_secs_f64();
        entry.tokens = (entry.tokens + elapsed * rule.rate).min(rule.bucket());
    }
    entry.refilled = now;
}

/// Seconds to wait before this entry admits another request, if it does not now.
fn refusal(entry: &Entry, rule: Rule) -> Option<u64> {
    if rule.max_concurrent > 0 && entry.in_flight >= rule.max_concurrent {
        return Some(1);
    }
    if rule.rate_on() && entry.tokens < 1.0 {
        let secs = ((1.0 - entry.tokens) / rule.rate).ceil();
        // Bounded: a tiny rate must not overflow the header.
        return Some(secs.clamp(1.0, 86_400.0) as u64);
    }
    None
}

/// The address a limit counts: the peer, or the last value of `header` (set by a trusted reverse
/// proxy) when configured and valid. IPv6 is cut to its /64; IPv4-mapped IPv6 counts as IPv4.
pub fn client_key(peer: IpAddr, headers: &HeaderMap, header: Option<&HeaderName>) -> IpAddr {
    let forwarded = header.and_then(|name| forwarded_address(headers, name));
    let ip = forwarded.unwrap_or(peer);
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

/// The right-most address in the last `name` header: the one the nearest proxy wrote.
fn forwarded_address(headers: &HeaderMap, name: &HeaderName) -> Option<IpAddr> {
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    value.rsplit(',').next()?.trim().parse().ok()
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;

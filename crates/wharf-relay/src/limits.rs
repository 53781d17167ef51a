//! The relay's share of the per-client limits: one [`Table`] (from `wharf-relay-rules`) behind a
//! lock, and permits that give a request's slots back when its body ends.

pub use wharf_relay_rules::limits::*;

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A [`Table`] shared by the requests of one relay.
#[derive(Debug)]
pub struct Limiter {
    table: Mutex<Table>,
}

impl Limiter {
    pub fn new(client: Rule, origin: Rule) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(Table::new(client, origin, 100_000)),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves counters, never broken memory: keep going.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a request now; the permit holds its slots until dropped.
    pub fn admit(self: &Arc<Self>, keys: Vec<Key>) -> Result<ClientPermit, Limited> {
        let ticket = self.table().admit(keys, Instant::now())?;
        Ok(ClientPermit {
            limiter: Arc::clone(self),
            ticket,
        })
    }

    /// Keys tracked now (for tests and logs).
    pub fn tracked(&self) -> usize {
        self.table().len()
    }
}

/// In-flight slots of one request; given back on drop.
#[derive(Debug)]
pub struct ClientPermit {
    limiter: Arc<Limiter>,
    ticket: Ticket,
}

impl Drop for ClientPermit {
    fn drop(&mut self) {
        self.limiter.table().release(&self.ticket);
    }
}

/// Everything a relayed request holds until its body ends: a global slot and its client's slots.
#[derive(Debug)]
pub struct Permit {
    _global: tokio::sync::OwnedSemaphorePermit,
    _client: ClientPermit,
}

impl Permit {
    pub fn new(global: tokio::sync::OwnedSemaphorePermit, client: ClientPermit) -> Self {
        Self {
            _global: global,
            _client: client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(max_concurrent: u32) -> Rule {
        Rule {
            max_concurrent,
            rate: 0.0,
            burst: 0,
        }
    }

    #[tokio::test]
    async fn permits_give_back_on_drop() {
        let limiter = Limiter::new(rule(1), Rule::OFF);
        let key = || vec![Key::Client("10.0.0.1".parse().unwrap())];
        let permit = limiter.admit(key()).unwrap();
        assert!(limiter.admit(key()).is_err());
        drop(permit);
        let global = Arc::new(tokio::sync::Semaphore::new(1));
        let combined = Permit::new(
            Arc::clone(&global).try_acquire_owned().unwrap(),
            limiter.admit(key()).unwrap(),
        );
        assert_eq!(global.available_permits(), 0);
        drop(combined);
        assert_eq!(global.available_permits(), 1);
        limiter.admit(key()).unwrap();
        assert_eq!(limiter.tracked(), 1);
    }
}

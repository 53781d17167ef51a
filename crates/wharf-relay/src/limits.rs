//! The relay's share of the per-client limits: one [`Table`] (from `wharf-relay-rules`) behind a
//! lock, and permits that give a request's slots back when its body ends.

pub use wharf_relay_rules::limits::*;

use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wharf_relay_rules::RelayError;

/// Admission for the requests of one relay: the global bound (`--max-concurrent`) and one
/// [`Table`] of per-client and per-Origin limits.
#[derive(Debug)]
pub struct Limiter {
    global: Arc<Semaphore>,
    table: Mutex<Table>,
}

impl Limiter {
    pub fn new(max_concurrent: usize, client: Rule, origin: Rule) -> Arc<Self> {
        Arc::new(Self {
            global: Arc::new(Semaphore::new(max_concurrent.max(1))),
            table: Mutex::new(Table::new(client, origin, 100_000)),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves counters, never broken memory: keep going.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the request's per-client slots, then a global one (all or none); the permit holds
    /// them until dropped.
    pub fn admit(self: &Arc<Self>, keys: Vec<Key>) -> Result<Permit, RelayError> {
        let ticket = self.table().admit(keys, Instant::now())?;
        // Built before the global slot is tried, so a busy relay gives the client's slots back.
        let client = ClientSlots {
            limiter: Arc::clone(self),
            ticket,
        };
        let global = Arc::clone(&self.global)
            .try_acquire_owned()
            .map_err(|_| RelayError::Busy)?;
        Ok(Permit {
            _client: client,
            _global: global,
        })
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.table().len()
    }
}

/// A request's per-client slots; given back on drop.
#[derive(Debug)]
struct ClientSlots {
    limiter: Arc<Limiter>,
    ticket: Ticket,
}

impl Drop for ClientSlots {
    fn drop(&mut self) {
        self.limiter.table().release(&self.ticket);
    }
}

/// Everything a relayed request holds until its body ends: its client's slots and a global slot.
#[derive(Debug)]
pub struct Permit {
    _client: ClientSlots,
    _global: OwnedSemaphorePermit,
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
        let limiter = Limiter::new(1, rule(1), Rule::OFF);
        let key = || vec![Key::Client("10.0.0.1".parse().unwrap())];
        let permit = limiter.admit(key()).unwrap();
        assert!(matches!(
            limiter.admit(key()),
            Err(RelayError::RateLimited { .. })
        ));
        // Another client finds the one global slot taken, and gets its own slot back.
        let other = || vec![Key::Client("10.0.0.2".parse().unwrap())];
        assert!(matches!(limiter.admit(other()), Err(RelayError::Busy)));
        drop(permit);
        let again = limiter.admit(other()).unwrap();
        drop(again);
        limiter.admit(key()).unwrap();
        assert_eq!(limiter.tracked(), 2);
    }
}

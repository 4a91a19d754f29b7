//! Admission control for the HTTP trigger: at most `limit` requests run at once; the rest
//! wait in arrival order, up to `queue_timeout`, and then get a 503 with `Retry-After`.
//!
//! Why: every request in flight holds a wasm instance and, in Spin's model, MySQL and Redis
//! connections of its own. Without a bound, a runtime whose cores are saturated keeps
//! accepting work it cannot finish: memory grew past 8 GB and MariaDB ran out of
//! connections in the 1,000-player load test. With a bound, overload turns into waiting
//! and then quick 503s that a client or a load balancer can retry elsewhere, and the
//! connections one runtime can open are capped at about `limit` per store.
//!
//! Spin itself has no such limit (a platform puts one in front of it, as our HAProxy
//! `maxconn` does); a guest cannot observe it beyond the 503.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests run at once by default: far above what two cores serve (requests spend most
/// of their time waiting on MySQL), and low enough that two runtimes stay under MariaDB's
/// default `max_connections` of 151.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 64;
/// How long a request may wait for a slot by default.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Admission {
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
}

impl Admission {
    /// `limit` is at least one.
    pub fn new(limit: usize, queue_timeout: Duration) -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(limit.max(1))),
            queue_timeout,
        }
    }

    /// A slot, held until the permit drops; `None` once the queue timeout passed. Tokio's
    /// semaphore is fair, so waiting requests are served first come, first served.
    pub async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            // Timed out, or closed (never: the semaphore is not closed).
            _ => None,
        }
    }
}

impl Default for Admission {
    fn default() -> Self {
        Admission::new(DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_QUEUE_TIMEOUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_house_times_out_and_a_freed_slot_admits_the_next() {
        let a = Admission::new(1, Duration::from_millis(50));
        let held = a.admit().await.expect("a free slot");
        assert!(
            a.admit().await.is_none(),
            "no second slot while one is held"
        );
        drop(held);
        assert!(a.admit().await.is_some(), "the freed slot admits again");
    }

    #[tokio::test]
    async fn a_waiting_request_gets_the_slot_when_it_frees() {
        let a = Arc::new(Admission::new(1, Duration::from_secs(60)));
        let held = a.admit().await.unwrap();
        let waiter = tokio::spawn({
            let a = a.clone();
            async move { a.admit().await.is_some() }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        assert!(waiter.await.unwrap());
    }

    #[test]
    fn a_zero_limit_still_admits_one() {
        let a = Admission::new(0, Duration::ZERO);
        assert_eq!(a.slots.available_permits(), 1);
    }
}

//! In-process fan-out: which connection listens to which Redis channel.
//!
//! One Redis subscription feeds the whole process; [`Registry::dispatch`] serialises each event
//! once and offers it to every subscriber's bounded queue with `try_send`, so a slow client can
//! never slow the fan-out or the other clients. A full queue marks that client as overflowed:
//! it is dropped from the channel at once, its session closes it with 1013 and then removes
//! its other subscriptions.
//!
//! A `std::sync::Mutex` (not a tokio one) guards the map: every critical section is short and
//! never awaits, and dispatch to 10,000 subscribers is a loop of non-blocking `try_send`s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, Notify};

use crate::protocol::event_json;

/// Identifies one connection in the registry.
pub type ConnId = u64;

/// The sending side of one connection's outgoing queue.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Utf8Bytes>,
    /// Signalled (once, with a stored permit) when the queue was found full.
    overflow: Notify,
}

impl Outbox {
    /// Resolves once the fan-out found this connection's queue full.
    pub async fn overflowed(&self) {
        self.overflow.notified().await;
    }
}

/// What the session keeps: its id, its outbox (to subscribe with) and the queue's receiver.
pub struct Handle {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
    pub rx: mpsc::Receiver<Utf8Bytes>,
}

/// What happened to one dispatched event.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    /// Queued for this many connections.
    pub delivered: usize,
    /// This many connections had a full queue and are being disconnected.
    pub overflowed: usize,
}

#[derive(Default)]
pub struct Registry {
    channels: Mutex<HashMap<String, HashMap<ConnId, Arc<Outbox>>>>,
    next_id: AtomicU64,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a connection's bounded queue (`queue_size` events).
    pub fn open(&self, queue_size: usize) -> Handle {
        let (tx, rx) = mpsc::channel(queue_size.max(1));
        Handle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            outbox: Arc::new(Outbox {
                tx,
                overflow: Notify::new(),
            }),
            rx,
        }
    }

    /// Adds `id` to `redis_channel`. Returns false if it was already subscribed.
    pub fn subscribe(&self, id: ConnId, outbox: &Arc<Outbox>, redis_channel: &str) -> bool {
        let mut channels = self.channels.lock().expect("registry lock poisoned");
        channels
            .entry(redis_channel.to_owned())
            .or_default()
            .insert(id, outbox.clone())
            .is_none()
    }

    /// Removes `id` from `redis_channel`. Returns false if it was not subscribed.
    pub fn unsubscribe(&self, id: ConnId, redis_channel: &str) -> bool {
        let mut channels = self.channels.lock().expect("registry lock poisoned");
        let Some(subs) = channels.get_mut(redis_channel) else {
            return false;
        };
        let removed = subs.remove(&id).is_some();
        if subs.is_empty() {
            channels.remove(redis_channel);
        }
        removed
    }

    /// Removes `id` from all of `redis_channels` (a closing session's subscriptions).
    pub fn remove<'a>(&self, id: ConnId, redis_channels: impl IntoIterator<Item = &'a str>) {
        for channel in redis_channels {
            self.unsubscribe(id, channel);
        }
    }

    /// Number of connections subscribed to `redis_channel`.
    pub fn subscribers(&self, redis_channel: &str) -> usize {
        let channels = self.channels.lock().expect("registry lock poisoned");
        channels.get(redis_channel).map_or(0, HashMap::len)
    }

    /// Offers one Redis message to every subscriber of its channel.
    pub fn dispatch(&self, redis_channel: &str, payload: &str) -> Dispatched {
        let mut result = Dispatched::default();
        let mut channels = self.channels.lock().expect("registry lock poisoned");
        let Some(subs) = channels.get_mut(redis_channel) else {
            return result;
        };
        // Serialised once, shared by reference count with every queue.
        let frame = Utf8Bytes::from(event_json(redis_channel, payload));
        subs.retain(|_, outbox| match outbox.tx.try_send(frame.clone()) {
            Ok(()) => {
                result.delivered += 1;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                result.overflowed += 1;
                outbox.overflow.notify_one();
                false
            }
            // The session has ended and is about to remove itself.
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if subs.is_empty() {
            channels.remove(redis_channel);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dispatch_reaches_only_subscribers_of_the_channel() {
        let registry = Registry::new();
        let mut a = registry.open(4);
        let mut b = registry.open(4);
        registry.subscribe(a.id, &a.outbox, "feed");
        registry.subscribe(b.id, &b.outbox, "match:1");

        let d = registry.dispatch("feed", r#"{"n":1}"#);

        assert_eq!(
            d,
            Dispatched {
                delivered: 1,
                overflowed: 0
            }
        );
        let frame = a.rx.try_recv().unwrap();
        assert_eq!(
            frame.as_str(),
            r#"{"type":"event","channel":"feed","data":{"n":1}}"#
        );
        assert!(b.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_overflows_that_connection_only() {
        let registry = Registry::new();
        let slow = registry.open(1);
        let mut fast = registry.open(1);
        registry.subscribe(slow.id, &slow.outbox, "feed");
        registry.subscribe(fast.id, &fast.outbox, "feed");

        assert_eq!(registry.dispatch("feed", "1").delivered, 2);
        fast.rx.try_recv().unwrap();
        let d = registry.dispatch("feed", "2");

        assert_eq!(
            d,
            Dispatched {
                delivered: 1,
                overflowed: 1
            }
        );
        // The overflow permit is stored, so the session sees it even if it was not waiting.
        tokio::time::timeout(std::time::Duration::from_secs(1), slow.outbox.overflowed())
            .await
            .unwrap();
        assert_eq!(registry.subscribers("feed"), 1);
        assert_eq!(
            fast.rx.try_recv().unwrap().as_str(),
            r#"{"type":"event","channel":"feed","data":2}"#
        );
    }

    #[test]
    fn unsubscribe_and_remove_clean_up_empty_channels() {
        let registry = Registry::new();
        let a = registry.open(1);
        assert!(registry.subscribe(a.id, &a.outbox, "feed"));
        assert!(!registry.subscribe(a.id, &a.outbox, "feed"));
        registry.subscribe(a.id, &a.outbox, "match:1");
        assert!(registry.unsubscribe(a.id, "feed"));
        assert!(!registry.unsubscribe(a.id, "feed"));
        registry.remove(a.id, ["match:1"]);
        assert!(registry.channels.lock().unwrap().is_empty());
    }

    #[test]
    fn closed_receivers_are_dropped_on_dispatch() {
        let registry = Registry::new();
        let a = registry.open(1);
        registry.subscribe(a.id, &a.outbox, "feed");
        drop(a.rx);
        assert_eq!(registry.dispatch("feed", "1"), Dispatched::default());
        assert_eq!(registry.subscribers("feed"), 0);
    }
}

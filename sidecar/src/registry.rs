//! In-process fan-out: which connection listens to which Redis channel.
//!
//! One Redis subscription feeds the whole process; [`Registry::dispatch`] serialises each event
//! once, encodes its WebSocket frame once, and offers it to every subscriber: written straight
//! into the socket when it takes it at once ([`crate::socket`]), otherwise put on the
//! connection's bounded queue with `try_send`. Nothing waits, so a slow client can never slow
//! the fan-out or the other clients. A full queue marks that client as overflowed: it is
//! dropped from the channel at once, its session closes it with 1013 and then removes its
//! other subscriptions.
//!
//! A `std::sync::Mutex` (not a tokio one) guards the map: every critical section is short and
//! never awaits, and dispatch to 10,000 subscribers is a loop of non-blocking `try_send`s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::protocol::event_json;
use crate::socket::{Direct, Offered};

/// Identifies one connection in the registry.
pub type ConnId = u64;

/// One event, serialised once for all its recipients.
pub struct Event {
    /// The JSON text, for the session's queue.
    pub text: Utf8Bytes,
    /// The complete WebSocket text frame (unmasked, as a server sends), for direct writes.
    pub frame: Bytes,
}

impl Event {
    pub fn new(json: String) -> Event {
        let len = json.len();
        let mut frame = BytesMut::with_capacity(len + 10);
        frame.put_u8(0x81); // FIN + text
        match len {
            0..=125 => frame.put_u8(len as u8),
            126..=0xffff => {
                frame.put_u8(126);
                frame.put_u16(len as u16);
            }
            _ => {
                frame.put_u8(127);
                frame.put_u64(len as u64);
            }
        }
        frame.put_slice(json.as_bytes());
        Event {
            text: Utf8Bytes::from(json),
            frame: frame.freeze(),
        }
    }
}

/// What a session's queue carries.
#[derive(Debug)]
pub enum Outgoing {
    /// An event to send.
    Event(Utf8Bytes),
    /// A direct write left part of a frame in the socket's buffer: flush it.
    Flush,
}

/// The fan-out's side of one connection.
pub struct Outbox {
    tx: mpsc::Sender<Outgoing>,
    /// Signalled (once, with a stored permit) when the queue was found full.
    overflow: Notify,
    /// The socket, for writing events without the session; `None` for in-memory test sockets.
    direct: Option<Arc<dyn Direct>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("direct", &self.direct.is_some())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Resolves once the fan-out found this connection's queue full.
    pub async fn overflowed(&self) {
        self.overflow.notified().await;
    }

    /// Hands `event` to the connection without waiting.
    fn offer(&self, event: &Event) -> Offered {
        let mut queue = |item| match self.tx.try_send(item) {
            Ok(()) => Offered::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Offered::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Offered::Closed,
        };
        match &self.direct {
            Some(direct) => direct.offer(event, &mut queue),
            None => queue(Outgoing::Event(event.text.clone())),
        }
    }

    /// The session is closing: no more events for it; see [`Direct::stop`].
    pub fn stop(&self) {
        if let Some(direct) = &self.direct {
            direct.stop();
        }
    }

    /// The session wrote a queued item; see [`Direct::settle`].
    pub fn settle(&self, rx: &mpsc::Receiver<Outgoing>) {
        if let Some(direct) = &self.direct {
            direct.settle(&|| rx.is_empty());
        }
    }
}

/// What the session keeps: its id, its outbox (to subscribe with) and the queue's receiver.
pub struct Handle {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
    pub rx: mpsc::Receiver<Outgoing>,
}

/// What happened to one dispatched event.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    /// Written to or queued for this many connections.
    pub delivered: usize,
    /// Of those, queued for this many (the rest were written directly).
    pub queued: usize,
    /// This many connections had a full queue and are being disconnected.
    pub overflowed: usize,
}

impl Dispatched {
    fn add(&mut self, other: Dispatched) {
        self.delivered += other.delivered;
        self.queued += other.queued;
        self.overflowed += other.overflowed;
    }
}

/// Offers `event` to each connection; returns the tally and the connections to drop from the
/// channel (overflowed, or gone).
fn offer_all<'a>(
    subs: impl Iterator<Item = (&'a ConnId, &'a Arc<Outbox>)>,
    event: &Event,
) -> (Dispatched, Vec<ConnId>) {
    let mut result = Dispatched::default();
    let mut gone = Vec::new();
    for (id, outbox) in subs {
        match outbox.offer(event) {
            Offered::Written => result.delivered += 1,
            Offered::Queued => {
                result.delivered += 1;
                result.queued += 1;
            }
            Offered::Full => {
                result.overflowed += 1;
                outbox.overflow.notify_one();
                gone.push(*id);
            }
            // The session has ended (or its socket broke) and is about to remove itself.
            Offered::Closed => gone.push(*id),
        }
    }
    (result, gone)
}

/// Channels with fewer subscribers are dispatched on the calling thread alone: for them,
/// starting threads would cost more than it saves.
const PARALLEL_MIN: usize = 1024;

pub struct Registry {
    channels: Mutex<HashMap<String, HashMap<ConnId, Arc<Outbox>>>>,
    metrics: crate::metrics::Metrics,
    next_id: AtomicU64,
    /// Threads a large channel's fan-out is spread over: one per core.
    threads: usize,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            channels: Mutex::default(),
            metrics: crate::metrics::Metrics::new(),
            next_id: AtomicU64::new(0),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
        }
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a connection's bounded queue (`queue_size` events) and its outbox, which
    /// writes through `direct` when it can.
    pub fn open(&self, queue_size: usize, direct: Option<Arc<dyn Direct>>) -> Handle {
        let (tx, rx) = mpsc::channel(queue_size.max(1));
        Handle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            outbox: Arc::new(Outbox {
                tx,
                overflow: Notify::new(),
                direct,
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

    /// This sidecar's instruments.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The metrics in Prometheus text, subscriptions counted now by kind of channel.
    pub fn render_metrics(&self) -> String {
        let mut by_kind: HashMap<String, usize> = HashMap::new();
        {
            let channels = self.channels.lock().expect("registry lock poisoned");
            for (name, subs) in channels.iter() {
                *by_kind
                    .entry(crate::metrics::channel_kind(name).to_owned())
                    .or_default() += subs.len();
            }
        }
        let mut counts: Vec<_> = by_kind.into_iter().collect();
        counts.sort();
        self.metrics.render(&counts)
    }

    /// Number of connections subscribed to `redis_channel`.
    pub fn subscribers(&self, redis_channel: &str) -> usize {
        let channels = self.channels.lock().expect("registry lock poisoned");
        channels.get(redis_channel).map_or(0, HashMap::len)
    }

    /// Offers one Redis message to every subscriber of its channel. Large channels are
    /// served by several threads at once; this returns when every connection had its offer.
    pub fn dispatch(&self, redis_channel: &str, payload: &str) -> Dispatched {
        let mut channels = self.channels.lock().expect("registry lock poisoned");
        let Some(subs) = channels.get_mut(redis_channel) else {
            return Dispatched::default();
        };
        // Serialised and framed once, shared by reference count with every connection.
        let event = Event::new(event_json(redis_channel, payload));
        let (result, gone) = if subs.len() < PARALLEL_MIN || self.threads < 2 {
            offer_all(subs.iter(), &event)
        } else {
            // Most of a large fan-out is the kernel's work in `send`: spread it over the cores.
            let all: Vec<_> = subs.iter().collect();
            let chunk = all.len().div_ceil(self.threads);
            std::thread::scope(|scope| {
                let mut parts = all.chunks(chunk);
                let mine = parts.next().unwrap_or_default();
                let helpers: Vec<_> = parts
                    .map(|part| scope.spawn(|| offer_all(part.iter().copied(), &event)))
                    .collect();
                let (mut result, mut gone) = offer_all(mine.iter().copied(), &event);
                for helper in helpers {
                    let (r, g) = helper.join().expect("a fan-out thread panicked");
                    result.add(r);
                    gone.extend(g);
                }
                (result, gone)
            })
        };
        for id in gone {
            subs.remove(&id);
        }
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
        let mut a = registry.open(4, None);
        let mut b = registry.open(4, None);
        registry.subscribe(a.id, &a.outbox, "feed");
        registry.subscribe(b.id, &b.outbox, "match:1");

        let d = registry.dispatch("feed", r#"{"n":1}"#);

        assert_eq!(
            d,
            Dispatched {
                delivered: 1,
                queued: 1,
                overflowed: 0
            }
        );
        let Outgoing::Event(text) = a.rx.try_recv().unwrap() else {
            panic!("expected an event");
        };
        assert_eq!(
            text.as_str(),
            r#"{"type":"event","channel":"feed","data":{"n":1}}"#
        );
        assert!(b.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_overflows_that_connection_only() {
        let registry = Registry::new();
        let slow = registry.open(1, None);
        let mut fast = registry.open(1, None);
        registry.subscribe(slow.id, &slow.outbox, "feed");
        registry.subscribe(fast.id, &fast.outbox, "feed");

        assert_eq!(registry.dispatch("feed", "1").delivered, 2);
        fast.rx.try_recv().unwrap();
        let d = registry.dispatch("feed", "2");

        assert_eq!(
            d,
            Dispatched {
                delivered: 1,
                queued: 1,
                overflowed: 1
            }
        );
        // The overflow permit is stored, so the session sees it even if it was not waiting.
        tokio::time::timeout(std::time::Duration::from_secs(1), slow.outbox.overflowed())
            .await
            .unwrap();
        assert_eq!(registry.subscribers("feed"), 1);
        let Outgoing::Event(text) = fast.rx.try_recv().unwrap() else {
            panic!("expected an event");
        };
        assert_eq!(
            text.as_str(),
            r#"{"type":"event","channel":"feed","data":2}"#
        );
    }

    #[test]
    fn unsubscribe_and_remove_clean_up_empty_channels() {
        let registry = Registry::new();
        let a = registry.open(1, None);
        assert!(registry.subscribe(a.id, &a.outbox, "feed"));
        assert!(!registry.subscribe(a.id, &a.outbox, "feed"));
        registry.subscribe(a.id, &a.outbox, "match:1");
        assert!(registry.unsubscribe(a.id, "feed"));
        assert!(!registry.unsubscribe(a.id, "feed"));
        registry.remove(a.id, ["match:1"]);
        assert!(registry.channels.lock().unwrap().is_empty());
    }

    #[test]
    fn an_event_frame_is_an_unmasked_text_frame() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let e = Event::new("x".repeat(len));
            let header: &[u8] = match len {
                0..=125 => &[0x81, len as u8],
                126..=65535 => &[0x81, 126, (len >> 8) as u8, len as u8],
                _ => &[0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0],
            };
            assert_eq!(&e.frame[..header.len()], header, "length {len}");
            assert_eq!(&e.frame[header.len()..], e.text.as_bytes());
        }
    }

    #[test]
    fn closed_receivers_are_dropped_on_dispatch() {
        let registry = Registry::new();
        let a = registry.open(1, None);
        registry.subscribe(a.id, &a.outbox, "feed");
        drop(a.rx);
        assert_eq!(registry.dispatch("feed", "1"), Dispatched::default());
        assert_eq!(registry.subscribers("feed"), 0);
    }
}
